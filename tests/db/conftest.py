"""Fresh, empty databases for the data-layer tests: a SQLite file and a PostgreSQL database."""

from collections.abc import Iterator
from uuid import uuid4

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.core.settings import get_settings
from bot.db.migrate import upgrade
from bot.db.session import dispose_engines, make_engine
from bot.db.staff import StaffUser
from bot.staff.accounts import create_user
from tests.support.services import require_postgres
from tests.support.team import STAFF_URL, lead_and_navigator, staff_navigator


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An autocommit connection to PostgreSQL's `postgres` database, or a skip (fail on CI)."""
    engine = create_engine(
        require_postgres(), future=True, isolation_level="AUTOCOMMIT", pool_pre_ping=True
    )  # pre-pinged: other tests on this machine may restart PostgreSQL
    yield engine
    engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The URL of a new, empty database (SQLite file in a not-yet-created folder, or PG)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'var' / 'pilotrock.db'}"
        dispose_engines()
        return
    admin: Engine = request.getfixturevalue("pg_admin")
    name = f"pilotrock_test_{uuid4().hex[:12]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield admin.url.set(database=name).render_as_string(hide_password=False)
    finally:
        dispose_engines()
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def migrated_url(database_url: str) -> str:
    """The URL of a database migrated to head."""
    upgrade(database_url)
    return database_url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    """An engine on the migrated database, disposed after the test."""
    engine = make_engine(migrated_url)
    yield engine
    engine.dispose()


@pytest.fixture
def make_session(engine: Engine) -> sessionmaker:
    """A session factory on the migrated database (one session per thread)."""
    return sessionmaker(bind=engine, future=True, expire_on_commit=False)


@pytest.fixture
def session(make_session: sessionmaker) -> Iterator[Session]:
    """A session on the migrated database."""
    with make_session() as session:
        yield session


@pytest.fixture
def staff_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The staff app's public address, as the alert emails link to it."""
    monkeypatch.setenv("STAFF_PUBLIC_URL", STAFF_URL + "/")
    get_settings.cache_clear()
    yield STAFF_URL
    get_settings.cache_clear()


@pytest.fixture
def ids(session: Session) -> tuple[int, int]:
    """A committed navigator and lead: (navigator_id, lead_id)."""
    lead, navigator = lead_and_navigator(session, "conv-1", "Europe/Lisbon")
    return navigator.id, lead.id


@pytest.fixture
def user(session: Session) -> StaffUser:
    """A committed reviewer account."""
    user = create_user(
        session,
        username="rita",
        display_name="Rita Ng",
        role="reviewer",
        password="Quality review 2025",
    )
    session.commit()
    return user


def navigator_account(session: Session, username: str, display_name: str) -> StaffUser:
    """A committed navigator account (its password is never used)."""
    user = staff_navigator(session, username, display_name)
    session.commit()
    return user


@pytest.fixture
def ana(session: Session) -> StaffUser:
    """A navigator account: the one who joins."""
    return navigator_account(session, "ana", "Ana Ortiz")


@pytest.fixture
def ben(session: Session) -> StaffUser:
    """A second navigator account."""
    return navigator_account(session, "ben", "Ben Okafor")

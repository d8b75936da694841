"""Alembic migrations run from code: `python -m bot.db.migrate` upgrades DATABASE_URL to head."""

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from bot.core.settings import get_settings
from bot.db.models import Base
from bot.db.session import make_engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    """Compare only our own tables: Rasa's `events` and other strangers are left alone."""
    if type_ == "table":
        return name in Base.metadata.tables
    return True


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config for `url` (default: DATABASE_URL) without an alembic.ini."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option(
        "sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%")
    )
    return config


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate the database at `url` (default: DATABASE_URL) up to `revision`."""
    command.upgrade(alembic_config(url), revision)


def current(url: str | None = None) -> str | None:
    """The revision the database at `url` is at, or None before the first migration."""
    engine = make_engine(url or get_settings().database_url)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()


def head() -> str | None:
    """The newest revision the package ships."""
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


if __name__ == "__main__":
    upgrade()
    print(f"database at revision {current()}")

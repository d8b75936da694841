"""Alembic environment: our metadata only, batch mode on SQLite, one migrator at a time."""

from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

from bot.core.settings import get_settings
from bot.db.migrate import include_object
from bot.db.models import Base, UTCDateTime
from bot.db.session import make_engine, normalize_url

MIGRATION_LOCK_ID = 7_411_002  # PostgreSQL advisory lock taken while migrating

config = context.config
url = normalize_url(config.get_main_option("sqlalchemy.url") or get_settings().database_url)


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our UTC timestamp type as plain SQLAlchemy in generated migrations."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def configure(**options: Any) -> None:
    """Configure the context the same way online and offline."""
    context.configure(
        target_metadata=Base.metadata,
        include_object=include_object,
        render_item=render_item,
        render_as_batch=url.get_backend_name() == "sqlite",
        compare_type=True,
        **options,
    )


def run(connection: Connection) -> None:
    """Run the migrations on `connection` in one transaction."""
    configure(connection=connection)
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_ID})")
        context.run_migrations()
        if connection.dialect.name == "sqlite":
            broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
            if broken:
                raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")


def run_online() -> None:
    """Migrate through a given connection, or a fresh engine (SQLite: foreign keys off)."""
    connection = config.attributes.get("connection")
    if connection is not None:
        run(connection)
        return
    engine = make_engine(url, foreign_keys=False)
    try:
        with engine.connect() as connection:
            run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    configure(url=url, literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()
else:
    run_online()

"""Alembic migrations on SQLite and PostgreSQL: to head, idempotent, Rasa's tables untouched."""

import importlib.util
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import CheckConstraint, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import IntegrityError

from bot.db.migrate import MIGRATIONS, alembic_config, current, head, include_object, upgrade
from bot.db.models import Base, one_of
from bot.db.reviews import RISK_LABELS, answer_value_check
from bot.db.session import make_engine
from bot.rasa.runtime.tracker_store import connection_fields

OUR_TABLES = set(Base.metadata.tables)
INDEX_FEED = {"conversation_intents", "index_checkpoints"}  # revision 0005
HANDOFFS = {"handoffs"}  # revision 0006
RISK_LABELS_TABLES = {"risk_annotations"}  # revision 0007


def schema_differences(url: str) -> list[Any]:
    """What Alembic's autogenerate would change to make the database match the models."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"include_object": include_object, "compare_type": True}
            )
            return compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()


def snapshot(url: str) -> dict[str, Any]:
    """Tables with their columns, indexes and constraints, for before/after comparisons."""
    engine = make_engine(url)
    try:
        inspector = inspect(engine)
        return {
            table: (
                [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
                sorted(i["name"] for i in inspector.get_indexes(table)),
                sorted(u["name"] for u in inspector.get_unique_constraints(table)),
                sorted(str(c["name"]) for c in inspector.get_check_constraints(table)),
                sorted(str(f["name"]) for f in inspector.get_foreign_keys(table)),
            )
            for table in inspector.get_table_names()
        }
    finally:
        engine.dispose()


def rasa_store(url: str) -> Any:
    """Rasa's own SQL tracker store on `url` (it creates the `events` table)."""
    with warnings.catch_warnings(record=True):  # Rasa's SQLAlchemy 1.x code warns; not ours
        from rasa.core.tracker_store import SQLTrackerStore
        from rasa.shared.core.domain import Domain

        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            Path(parsed.database or "").parent.mkdir(parents=True, exist_ok=True)
        return SQLTrackerStore(domain=Domain.empty(), **connection_fields(url))


def load_migration(name: str) -> ModuleType:
    """A revision's module, loaded from its file in bot/db/migrations/versions (`0004_...`)."""
    path = MIGRATIONS / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"migration_{name[:4]}", path)
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    return migration


def execute(engine: Engine, statement: str) -> None:
    """Run one SQL statement in a transaction of its own."""
    with engine.begin() as connection:
        connection.execute(text(statement))


def fetch(engine: Engine, query: str) -> list[tuple[Any, ...]]:
    """The rows a query returns, as tuples."""
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(query))]


def test_upgrade_from_empty_to_head(database_url: str) -> None:
    """An empty database migrates to the newest revision and gets exactly our tables."""
    assert current(database_url) is None
    upgrade(database_url)
    assert current(database_url) == head() == "0007"
    assert set(snapshot(database_url)) == OUR_TABLES | {"alembic_version"}


def test_schema_matches_models(migrated_url: str) -> None:
    """Autogenerate finds nothing to change: the migration matches the models exactly."""
    assert schema_differences(migrated_url) == []


def test_check_constraints_match_models(migrated_url: str) -> None:
    """Autogenerate does not compare CHECK constraints, so compare their names here."""
    tables = snapshot(migrated_url)
    for name, table in Base.metadata.tables.items():
        expected = sorted(str(c.name) for c in table.constraints if isinstance(c, CheckConstraint))
        assert tables[name][3] == expected, name


def test_upgrade_twice_is_a_no_op(migrated_url: str) -> None:
    """Upgrading a database already at head changes neither schema nor data."""
    engine = make_engine(migrated_url)
    execute(
        engine,
        "INSERT INTO callback_requests (conversation_id, channel, status, created_at)"
        " VALUES ('c1', 'rest', 'open', CURRENT_TIMESTAMP)",
    )
    before = snapshot(migrated_url)
    upgrade(migrated_url)
    assert snapshot(migrated_url) == before
    assert current(migrated_url) == head()
    count = fetch(engine, "SELECT count(*) FROM callback_requests")
    engine.dispose()
    assert count == [(1,)]


async def test_rasa_events_table_is_left_untouched(database_url: str) -> None:
    """Rasa's transcript table, present first, survives upgrades and is ignored by compare."""
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    store = rasa_store(database_url)
    events = [
        UserUttered("hi", {"name": "greet", "confidence": 1.0}),
        ActionExecuted("utter_greet"),
    ]
    await store.save(DialogueStateTracker.from_events("visitor-1", events))
    before = snapshot(database_url)["events"]

    upgrade(database_url)
    upgrade(database_url)

    after = snapshot(database_url)
    assert after["events"] == before
    assert set(after) == OUR_TABLES | {"alembic_version", "events"}
    assert schema_differences(database_url) == []
    restored = await store.retrieve("visitor-1")
    assert restored is not None
    assert restored.latest_message.text == "hi"
    assert restored.latest_action_name == "utter_greet"
    store.engine.dispose()


def test_downgrade_to_base_and_back(migrated_url: str) -> None:
    """The initial revision can be reverted and re-applied."""
    command.downgrade(alembic_config(migrated_url), "base")
    assert set(snapshot(migrated_url)) == {"alembic_version"}
    assert current(migrated_url) is None
    upgrade(migrated_url)
    assert schema_differences(migrated_url) == []


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_offline_sql_script(dialect: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`alembic upgrade --sql` works without a database (for DBAs reviewing the DDL)."""
    url = "sqlite:///unused.db" if dialect == "sqlite" else "postgresql://u@h/db"
    command.upgrade(alembic_config(url), "head", sql=True)
    script = capsys.readouterr().out
    assert "CREATE TABLE bookings" in script
    assert "uq_bookings_navigator_id_active_start" in script
    assert "CREATE TABLE answer_annotations" in script
    assert "CREATE TABLE risk_annotations" in script
    assert "events" not in script


def test_downgrade_one_step_drops_only_the_answer_labels(migrated_url: str) -> None:
    """0004 reverts on its own (after 0007, 0006 and 0005): the tables of 0001-0003 stay."""
    command.downgrade(alembic_config(migrated_url), "0003")
    assert current(migrated_url) == "0003"
    assert set(snapshot(migrated_url)) == (
        OUR_TABLES - {"answer_annotations"} - INDEX_FEED - HANDOFFS - RISK_LABELS_TABLES
    ) | {"alembic_version"}
    upgrade(migrated_url)
    assert schema_differences(migrated_url) == []


def test_answer_label_check_is_the_models(migrated_url: str) -> None:
    """The migration's frozen CHECK matches the model's, and the database enforces it."""
    migration = load_migration("0004_answer_annotations")
    assert answer_value_check() == migration.VALUE_FITS_QUESTION
    insert = text(
        "INSERT INTO answer_annotations (conversation_id, event_id, question, text, value,"
        " created_at, updated_at) VALUES ('c1', :event_id, :question, 'x', :value,"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    engine = make_engine(migrated_url)
    try:
        with engine.begin() as connection:
            connection.execute(insert, {"event_id": 1, "question": "support", "value": "alone"})
            connection.execute(insert, {"event_id": 1, "question": "scope", "value": "none"})
        for event_id, question, value in (
            (2, "support", "bounded"),
            (2, "mood", "none"),
            (2, "scope", ""),
            (1, "support", "has_support"),  # a second label for the same message and question
        ):
            with pytest.raises(IntegrityError), engine.begin() as connection:
                connection.execute(
                    insert, {"event_id": event_id, "question": question, "value": value}
                )
    finally:
        engine.dispose()


def index_columns(url: str) -> list[str]:
    """The column names of conversation_index."""
    engine = make_engine(url)
    try:
        return [column["name"] for column in inspect(engine).get_columns("conversation_index")]
    finally:
        engine.dispose()


def test_downgrade_one_step_drops_only_the_risk_labels(migrated_url: str) -> None:
    """0007 reverts on its own, keeping index rows; upgrading again restores the schema."""
    engine = make_engine(migrated_url)
    execute(
        engine,
        "INSERT INTO conversation_index (conversation_id, channel, started_at, last_at,"
        " last_event_id, user_messages, outcome, emergency, fallback, low_confidence,"
        " human_requested, search_text, risk_alerted_event_id) VALUES ('c1', 'rest',"
        " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 9, 1, 'none', TRUE, FALSE, FALSE, FALSE, '', 7)",
    )
    command.downgrade(alembic_config(migrated_url), "0006")
    assert current(migrated_url) == "0006"
    assert set(snapshot(migrated_url)) == (OUR_TABLES - RISK_LABELS_TABLES) | {"alembic_version"}
    assert "risk_alerted_event_id" not in index_columns(migrated_url)
    assert fetch(engine, "SELECT last_event_id FROM conversation_index") == [(9,)]
    upgrade(migrated_url)
    assert schema_differences(migrated_url) == []
    assert fetch(engine, "SELECT risk_alerted_event_id FROM conversation_index") == [(None,)]
    engine.dispose()


def test_risk_label_check_is_the_models(migrated_url: str) -> None:
    """The migration's frozen CHECK matches the model's; one label per message is enforced."""
    assert one_of("label", RISK_LABELS) == load_migration("0007_risk_labels").LABEL_CHECK
    insert = text(
        "INSERT INTO risk_annotations (conversation_id, event_id, text, label, created_at,"
        " updated_at) VALUES ('c1', :event_id, 'x', :label, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    engine = make_engine(migrated_url)
    try:
        with engine.begin() as connection:
            connection.execute(insert, {"event_id": 1, "label": "crisis"})
            connection.execute(insert, {"event_id": 2, "label": "none"})
        for event_id, label in ((3, "high"), (3, ""), (3, "Acute"), (1, "acute")):
            with pytest.raises(IntegrityError), engine.begin() as connection:
                connection.execute(insert, {"event_id": event_id, "label": label})
    finally:
        engine.dispose()

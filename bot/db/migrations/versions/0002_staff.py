"""Staff app tables (accounts, sessions, audit log, conversation index, reviews, annotations)
and the conversation locks shared by several Rasa workers.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY_SQLITE = (
    "CREATE TRIGGER audit_log_no_{op} BEFORE {OP} ON audit_log "
    "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END"
)
APPEND_ONLY_POSTGRES_FUNCTION = (
    "CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$ "
    "BEGIN RAISE EXCEPTION 'audit_log is append-only'; END; $$ LANGUAGE plpgsql"
)
APPEND_ONLY_POSTGRES = (
    "CREATE TRIGGER audit_log_no_{op} BEFORE {OP} ON audit_log "
    "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
)


def utc() -> sa.DateTime:
    """A timezone-aware timestamp column type (the models' UTCDateTime)."""
    return sa.DateTime(timezone=True)


def staff_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    """A nullable reference to a staff user that survives the user's deletion."""
    return sa.ForeignKeyConstraint(
        [column],
        ["staff_users.id"],
        name=op.f(f"fk_{table}_{column}_staff_users"),
        ondelete="SET NULL",
    )


def upgrade() -> None:
    """Create the staff tables and make the audit log append-only in the database itself."""
    create_accounts()
    create_audit_log()
    create_review_tables()
    op.create_table(
        "conversation_locks",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_locks")),
    )


def create_accounts() -> None:
    """Staff users and their sessions."""
    op.create_table(
        "staff_users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", utc(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("password_changed_at", utc(), nullable=False),
        sa.Column("last_login_at", utc(), nullable=True),
        sa.CheckConstraint(
            "role IN ('admin', 'navigator', 'reviewer')", name=op.f("ck_staff_users_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_users")),
        sa.UniqueConstraint("username", name=op.f("uq_staff_users_username")),
    )
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("last_seen_at", utc(), nullable=False),
        sa.Column("expires_at", utc(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["staff_users.id"],
            name=op.f("fk_staff_sessions_user_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    op.create_index(op.f("ix_staff_sessions_user_id"), "staff_sessions", ["user_id"])


def create_audit_log() -> None:
    """The hash-chained audit log, guarded against UPDATE and DELETE by triggers."""
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("at", utc(), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target_type", sa.String(length=32), nullable=False),
        sa.Column("target_id", sa.String(length=255), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
        sa.UniqueConstraint("seq", name=op.f("uq_audit_log_seq")),
        sa.UniqueConstraint("hash", name=op.f("uq_audit_log_hash")),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(APPEND_ONLY_POSTGRES_FUNCTION)
    template = APPEND_ONLY_POSTGRES if dialect == "postgresql" else APPEND_ONLY_SQLITE
    if dialect in ("postgresql", "sqlite"):
        for verb in ("update", "delete"):
            op.execute(template.format(op=verb, OP=verb.upper()))


def create_review_tables() -> None:
    """The conversation index, review status, tags, notes and intent annotations."""
    op.create_table(
        "conversation_index",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("started_at", utc(), nullable=False),
        sa.Column("last_at", utc(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("user_messages", sa.Integer(), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("recommendation", sa.String(length=32), nullable=True),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("fallback", sa.Boolean(), nullable=False),
        sa.Column("low_confidence", sa.Boolean(), nullable=False),
        sa.Column("human_requested", sa.Boolean(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "outcome IN ('booked', 'lead', 'recommendation', 'none')",
            name=op.f("ck_conversation_index_outcome"),
        ),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_index")),
    )
    op.create_index("ix_conversation_index_last_at", "conversation_index", ["last_at"])
    op.create_table(
        "conversation_reviews",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by", sa.Integer(), nullable=True),
        sa.Column("reviewed_at", utc(), nullable=True),
        sa.CheckConstraint(
            "status IN ('unreviewed', 'reviewed')", name=op.f("ck_conversation_reviews_status")
        ),
        staff_fk("reviewed_by", "conversation_reviews"),
        sa.PrimaryKeyConstraint("conversation_id", name=op.f("pk_conversation_reviews")),
    )
    op.create_table(
        "conversation_tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_tags")),
        sa.UniqueConstraint(
            "conversation_id", "tag", name=op.f("uq_conversation_tags_conversation_id_tag")
        ),
    )
    op.create_index(
        op.f("ix_conversation_tags_conversation_id"), "conversation_tags", ["conversation_id"]
    )
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        staff_fk("author_id", "conversation_notes"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_notes")),
    )
    op.create_index(
        op.f("ix_conversation_notes_conversation_id"), "conversation_notes", ["conversation_id"]
    )
    op.create_table(
        "annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=64), nullable=True),
        sa.Column("corrected_intent", sa.String(length=64), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        staff_fk("author_id", "annotations"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_annotations")),
        sa.UniqueConstraint(
            "conversation_id", "event_id", name=op.f("uq_annotations_conversation_id_event_id")
        ),
    )
    op.create_index(op.f("ix_annotations_conversation_id"), "annotations", ["conversation_id"])


def downgrade() -> None:
    """Drop the staff tables (the audit log's triggers go with it)."""
    for table in (
        "conversation_locks",
        "annotations",
        "conversation_notes",
        "conversation_tags",
        "conversation_reviews",
        "conversation_index",
        "audit_log",
        "staff_sessions",
        "staff_users",
    ):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS audit_log_append_only()")

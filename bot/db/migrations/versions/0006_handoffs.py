"""Live takeover: handoff requests and claims; a preview of each indexed conversation.

The preview is kept twice: masked (for roles without personal details) and as typed.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STALE = 0  # as in 0005: rows with this last_event_id are re-read by the index consumer
OPEN = sa.text("status != 'closed'")


def upgrade() -> None:
    """Create `handoffs`; add `conversation_index.preview` and mark the index for re-reading."""
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("requested_by", sa.String(length=16), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("requested_by_staff_id", sa.Integer(), nullable=True),
        sa.Column("claimed_by_id", sa.Integer(), nullable=True),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_staff_message_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("staff_messages", sa.Integer(), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "status IN ('waiting', 'claimed', 'closed')", name=op.f("ck_handoffs_status")
        ),
        sa.CheckConstraint(
            "outcome IS NULL OR outcome IN ('handed_back', 'no_reply', 'unclaimed', "
            "'out_of_hours', 'cancelled')",
            name=op.f("ck_handoffs_outcome"),
        ),
        sa.CheckConstraint(
            "requested_by IN ('visitor', 'staff')", name=op.f("ck_handoffs_requested_by")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_staff_id"],
            ["staff_users.id"],
            name=op.f("fk_handoffs_requested_by_staff_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["claimed_by_id"],
            ["staff_users.id"],
            name=op.f("fk_handoffs_claimed_by_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_handoffs")),
    )
    op.create_index("ix_handoffs_conversation_id", "handoffs", ["conversation_id"])
    op.create_index("ix_handoffs_status", "handoffs", ["status"])
    op.create_index(
        "uq_handoffs_open_conversation",
        "handoffs",
        ["conversation_id"],
        unique=True,
        sqlite_where=OPEN,
        postgresql_where=OPEN,
    )
    with op.batch_alter_table("conversation_index") as batch:
        batch.add_column(sa.Column("preview", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("preview_personal", sa.String(length=200), nullable=True))
    op.execute(sa.text(f"UPDATE conversation_index SET last_event_id = {STALE}"))


def downgrade() -> None:
    """Drop `handoffs` and the preview column."""
    with op.batch_alter_table("conversation_index") as batch:
        batch.drop_column("preview_personal")
        batch.drop_column("preview")
    op.drop_table("handoffs")

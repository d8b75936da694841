"""The index consumer's tables: intent counts per indexed conversation, and read checkpoints.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


STALE = 0  # no Rasa event has id 0: a row with this last_event_id is re-read by reconciliation


def upgrade() -> None:
    """Create the tables; mark existing index rows stale so the consumer re-reads them.

    Rows indexed before this revision have no intent counts: the consumer's start-up
    reconciliation finds them stale (last_event_id differs from the newest event) and re-reads them.
    """
    op.create_table(
        "conversation_intents",
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("intent", sa.String(length=255), nullable=False),
        sa.Column("messages", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversation_index.conversation_id"],
            name=op.f("fk_conversation_intents_conversation_id_conversation_index"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "intent", name=op.f("pk_conversation_intents")),
    )
    op.create_table(
        "index_checkpoints",
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("position", sa.BigInteger(), nullable=False),
        sa.Column("marker", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("source", name=op.f("pk_index_checkpoints")),
    )
    op.execute(sa.text(f"UPDATE conversation_index SET last_event_id = {STALE}"))


def downgrade() -> None:
    """Drop the consumer's tables (the index itself stays: a rebuild refills them)."""
    op.drop_table("index_checkpoints")
    op.drop_table("conversation_intents")

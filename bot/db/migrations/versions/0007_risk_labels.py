"""Staff risk labels of visitor messages; the last risk detection the team was alerted to.

No index row needs re-reading: events stored before the risk annotation carry none.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-08
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The risk model's classes (bot.db.reviews.RISK_LABELS when this was written).
LABEL_CHECK = "label IN ('acute', 'crisis', 'none')"


def utc() -> sa.DateTime:
    """A timezone-aware timestamp column type (the models' UTCDateTime)."""
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create risk_annotations (one label per message); add the index's alert watermark."""
    op.create_table(
        "risk_annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_label", sa.String(length=16), nullable=True),
        sa.Column("predicted_score", sa.Float(), nullable=True),
        sa.Column("predicted_level", sa.String(length=16), nullable=True),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.CheckConstraint(LABEL_CHECK, name=op.f("ck_risk_annotations_label")),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff_users.id"],
            name=op.f("fk_risk_annotations_author_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_annotations")),
        # Also the index for a conversation's labels (conversation_id leads).
        sa.UniqueConstraint(
            "conversation_id",
            "event_id",
            name=op.f("uq_risk_annotations_conversation_id_event_id"),
        ),
    )
    with op.batch_alter_table("conversation_index") as batch:
        batch.add_column(sa.Column("risk_alerted_event_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop the alert watermark and risk_annotations."""
    with op.batch_alter_table("conversation_index") as batch:
        batch.drop_column("risk_alerted_event_id")
    op.drop_table("risk_annotations")

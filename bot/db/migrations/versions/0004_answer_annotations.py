"""Staff labels of what a visitor message answers to an assessment question.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each question's two values and "none" (bot.intake.recommendation.SIDES when this was written).
VALUE_FITS_QUESTION = (
    "(question = 'scope' AND value IN ('bounded', 'complex', 'none'))"
    " OR (question = 'decisions' AND value IN ('one_time', 'many', 'none'))"
    " OR (question = 'need' AND value IN ('answer', 'navigate', 'none'))"
    " OR (question = 'support' AND value IN ('has_support', 'alone', 'none'))"
)


def utc() -> sa.DateTime:
    """A timezone-aware timestamp column type (the models' UTCDateTime)."""
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create answer_annotations: one label per message and question."""
    op.create_table(
        "answer_annotations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("question", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_value", sa.String(length=16), nullable=True),
        sa.Column("predicted_confidence", sa.Float(), nullable=True),
        sa.Column("value", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("updated_at", utc(), nullable=False),
        sa.CheckConstraint(
            VALUE_FITS_QUESTION, name=op.f("ck_answer_annotations_value_fits_question")
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["staff_users.id"],
            name=op.f("fk_answer_annotations_author_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_answer_annotations")),
        # Also the index for a conversation's labels (conversation_id leads).
        sa.UniqueConstraint(
            "conversation_id",
            "event_id",
            "question",
            name=op.f("uq_answer_annotations_conversation_id_event_id_question"),
        ),
    )


def downgrade() -> None:
    """Drop answer_annotations."""
    op.drop_table("answer_annotations")

"""Initial schema: navigators and their hours, leads, bookings, outbox, callback requests.

Revision ID: 0001
Revises:
Create Date: 2025-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def utc() -> sa.DateTime:
    """A timezone-aware timestamp column type (the models' UTCDateTime)."""
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the project's tables (Rasa's `events` table is not ours and is not touched)."""
    op.create_table(
        "navigators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_navigators")),
        sa.UniqueConstraint("email", name=op.f("uq_navigators_email")),
    )
    op.create_table(
        "weekly_hours",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("navigator_id", sa.Integer(), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.CheckConstraint("weekday BETWEEN 0 AND 6", name=op.f("ck_weekly_hours_weekday")),
        sa.CheckConstraint("start_time < end_time", name=op.f("ck_weekly_hours_start_before_end")),
        sa.ForeignKeyConstraint(
            ["navigator_id"],
            ["navigators.id"],
            name=op.f("fk_weekly_hours_navigator_id_navigators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_weekly_hours")),
    )
    op.create_index(op.f("ix_weekly_hours_navigator_id"), "weekly_hours", ["navigator_id"])
    op.create_table(
        "date_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("navigator_id", sa.Integer(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=True),
        sa.Column("end_time", sa.Time(), nullable=True),
        sa.CheckConstraint(
            "(start_time IS NULL AND end_time IS NULL)"
            " OR (start_time IS NOT NULL AND end_time IS NOT NULL AND start_time < end_time)",
            name=op.f("ck_date_overrides_closed_or_start_before_end"),
        ),
        sa.ForeignKeyConstraint(
            ["navigator_id"],
            ["navigators.id"],
            name=op.f("fk_date_overrides_navigator_id_navigators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_date_overrides")),
    )
    op.create_index(
        "ix_date_overrides_navigator_id_date", "date_overrides", ["navigator_id", "date"]
    )
    op.create_table(
        "time_off",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("navigator_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", utc(), nullable=False),
        sa.Column("ends_at", utc(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_time_off_starts_before_ends")),
        sa.ForeignKeyConstraint(
            ["navigator_id"],
            ["navigators.id"],
            name=op.f("fk_time_off_navigator_id_navigators"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_time_off")),
    )
    op.create_index(op.f("ix_time_off_navigator_id"), "time_off", ["navigator_id"])
    op.create_table(
        "leads",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=True),
        sa.Column("phone", sa.String(length=16), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=True),
        sa.Column("consent", sa.Boolean(), nullable=False),
        sa.Column("consent_at", utc(), nullable=True),
        sa.Column("recommendation", sa.String(length=32), nullable=True),
        sa.Column("situation", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("warmth_score", sa.Integer(), nullable=False),
        sa.Column("warmth_reasons", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.CheckConstraint(
            "status IN ('new', 'contacted', 'booked', 'closed')", name=op.f("ck_leads_status")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_leads")),
    )
    op.create_index(op.f("ix_leads_conversation_id"), "leads", ["conversation_id"])
    op.create_table(
        "bookings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=16), nullable=False),
        sa.Column("lead_id", sa.Integer(), nullable=False),
        sa.Column("navigator_id", sa.Integer(), nullable=False),
        sa.Column("starts_at", utc(), nullable=False),
        sa.Column("ends_at", utc(), nullable=False),
        sa.Column("visitor_timezone", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("cancelled_at", utc(), nullable=True),
        sa.Column("active_start", utc(), nullable=True),
        sa.CheckConstraint("status IN ('confirmed', 'cancelled')", name=op.f("ck_bookings_status")),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_bookings_starts_before_ends")),
        sa.CheckConstraint(
            "(status = 'confirmed' AND active_start = starts_at)"
            " OR (status = 'cancelled' AND active_start IS NULL)",
            name=op.f("ck_bookings_active_start_follows_status"),
        ),
        sa.ForeignKeyConstraint(["lead_id"], ["leads.id"], name=op.f("fk_bookings_lead_id_leads")),
        sa.ForeignKeyConstraint(
            ["navigator_id"], ["navigators.id"], name=op.f("fk_bookings_navigator_id_navigators")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bookings")),
        sa.UniqueConstraint("reference", name=op.f("uq_bookings_reference")),
        # One confirmed booking per navigator and start; cancelled rows hold NULL, which never
        # collides, so a cancelled slot can be booked again.
        sa.UniqueConstraint(
            "navigator_id", "active_start", name=op.f("uq_bookings_navigator_id_active_start")
        ),
    )
    op.create_index(op.f("ix_bookings_lead_id"), "bookings", ["lead_id"])
    op.create_index(op.f("ix_bookings_starts_at"), "bookings", ["starts_at"])
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("booking_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("attachment_name", sa.String(length=120), nullable=True),
        sa.Column("attachment", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", utc(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", utc(), nullable=False),
        sa.Column("sent_at", utc(), nullable=True),
        sa.CheckConstraint(
            "status IN ('pending', 'sent', 'failed')", name=op.f("ck_outbox_messages_status")
        ),
        sa.ForeignKeyConstraint(
            ["booking_id"],
            ["bookings.id"],
            name=op.f("fk_outbox_messages_booking_id_bookings"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
    )
    op.create_index(op.f("ix_outbox_messages_booking_id"), "outbox_messages", ["booking_id"])
    op.create_index(
        "ix_outbox_messages_status_next_attempt_at",
        "outbox_messages",
        ["status", "next_attempt_at"],
    )
    op.create_table(
        "callback_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.String(length=255), nullable=False),
        sa.Column("channel", sa.String(length=32), nullable=False),
        sa.Column("contact", sa.String(length=320), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", utc(), nullable=False),
        sa.CheckConstraint("status IN ('open', 'done')", name=op.f("ck_callback_requests_status")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_callback_requests")),
    )
    op.create_index(
        op.f("ix_callback_requests_conversation_id"), "callback_requests", ["conversation_id"]
    )


def downgrade() -> None:
    """Drop the project's tables (indexes go with them)."""
    for table in (
        "callback_requests",
        "outbox_messages",
        "bookings",
        "leads",
        "time_off",
        "date_overrides",
        "weekly_hours",
        "navigators",
    ):
        op.drop_table(table)

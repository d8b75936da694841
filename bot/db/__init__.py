"""The project's own database: models, sessions, Alembic migrations and shared queries."""

from bot.db import handoffs, locks, reviews, staff, telegram  # noqa: F401  (register these tables on Base.metadata)

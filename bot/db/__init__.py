"""The project's own database: models, sessions, Alembic migrations and shared queries."""

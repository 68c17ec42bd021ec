"""Storage: models, the database handle and Alembic migrations."""

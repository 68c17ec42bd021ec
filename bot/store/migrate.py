"""Alembic, driven from code: `cycles db upgrade` and the upgrade the bot runs on start.

Processes starting together on a fresh database must not both create the tables: a migration
runs under a lock. On PostgreSQL that is a transaction-level advisory lock taken first on the
migration's own connection (released with its commit); on SQLite, a file lock next to the
database file. The second process then finds the schema at head and changes nothing."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from filelock import FileLock, Timeout
from sqlalchemy import make_url, text
from sqlalchemy.engine import Connection

from bot.store.database import Database, StartupFailed

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Fixed: blake2b("learning-cycles:migrate"), 8 bytes, signed. Advisory locks are per database.
MIGRATION_LOCK_KEY = 119733586232723330
# A migration that has not finished in this long is stuck (or the lock holder is).
LOCK_WAIT_SECONDS = 300.0


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    await _migrate(db, lambda cfg: command.upgrade(cfg, revision))


async def downgrade(db: Database, revision: str) -> None:
    await _migrate(db, lambda cfg: command.downgrade(cfg, revision))


async def _migrate(db: Database, step: Callable[[Config], None]) -> None:
    async with file_lock(db), db.engine.begin() as conn:
        if not db.is_sqlite:
            await conn.execute(
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        await conn.run_sync(lambda sync: step(alembic_config(sync)))


@asynccontextmanager
async def file_lock(db: Database) -> AsyncIterator[None]:
    """On SQLite, hold `<database file>.lock` (PostgreSQL needs none: advisory locks). Re-entrant
    within a process, so start-up can hold it around the migration and what follows."""
    path = make_url(db.url).database if db.is_sqlite else None
    if not path or path == ":memory:":
        yield
        return
    lock = FileLock(f"{path}.lock", thread_local=False, is_singleton=True)
    try:
        await asyncio.to_thread(lock.acquire, timeout=LOCK_WAIT_SECONDS)
    except Timeout:
        raise StartupFailed(
            f"database: another process has held {lock.lock_file} for {LOCK_WAIT_SECONDS:g} s "
            "while migrating; stop it, or wait for it to finish."
        ) from None
    try:
        yield
    finally:
        lock.release()


async def current(db: Database) -> str | None:
    from alembic.runtime.migration import MigrationContext

    async with db.engine.connect() as conn:
        return await conn.run_sync(
            lambda sync: MigrationContext.configure(sync).get_current_revision()
        )


def new_revision(message: str, workdir: Path) -> None:
    """Autogenerate a revision by comparing the models with a database migrated to head."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{workdir / 'revision.sqlite3'}")
    with engine.begin() as conn:
        cfg = alembic_config(conn)
        command.upgrade(cfg, "head")
        command.revision(cfg, message=message, autogenerate=True)

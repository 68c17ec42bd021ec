"""Which replica runs the scheduler: the one holding a PostgreSQL advisory lock.

Every replica runs `Leadership.run`. It keeps one dedicated connection (outside the pool) and
tries `pg_try_advisory_lock` on it every `scheduler.takeover_seconds`. The winner starts its
scheduler and pings that connection at the same pace. The lock is a session lock: when the
holder dies, PostgreSQL ends its session and frees the lock, and a standby takes over at its
next try. TCP keepalives on both ends make a holder that vanished without closing its socket
(a lost machine, a cut network) count as dead within about twenty seconds, not hours.

The holder gives up the scheduler as soon as a ping fails or times out (it pings every half
interval); a new holder waits a whole interval before starting its scheduler, so the old one has
stepped down by then. Were two ever to overlap (a holder frozen for longer than that), every job
is idempotent: the overlap repeats nothing.

On SQLite there is one process by definition, so it simply leads."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine
from sqlalchemy.pool import NullPool

from bot.config import SchedulerSettings
from bot.store.database import Database, psycopg_url

log = logging.getLogger(__name__)

Hook = Callable[[], Awaitable[None]]

# libpq keepalives: the holder notices a dead server; SET tcp_keepalives_*: the server notices a
# dead holder and ends its session, which frees the lock.
CLIENT_KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 10,
    "keepalives_interval": 3,
    "keepalives_count": 3,
    "connect_timeout": 5,
}
SERVER_KEEPALIVES = (
    "SET tcp_keepalives_idle = 10",
    "SET tcp_keepalives_interval = 3",
    "SET tcp_keepalives_count = 3",
)


def lock_key(database: str, schema: str, purpose: str = "scheduler") -> int:
    """A stable signed 64-bit advisory lock key for one database, schema and purpose."""
    name = f"learning-cycles:{database}:{schema}"
    if purpose != "scheduler":
        name += f":{purpose}"
    digest = hashlib.blake2b(name.encode(), digest_size=8)
    return int.from_bytes(digest.digest(), "big", signed=True)


@contextlib.asynccontextmanager
async def startup_lock(db: Database) -> AsyncIterator[None]:
    """Replicas starting together migrate the database and load templates one at a time (on
    PostgreSQL, behind an advisory lock); the later ones find the work done."""
    if db.is_sqlite:
        yield
        return
    async with db.engine.connect() as conn:
        await conn.execution_options(isolation_level="AUTOCOMMIT")
        row = (await conn.execute(text("SELECT current_database(), current_schema()"))).one()
        key = lock_key(str(row[0]), str(row[1]), "startup")
        await conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})


class Leadership:
    """Calls `elected` when this replica starts running the scheduler and `deposed` when it
    stops (the lock was lost, or the replica is stopping)."""

    def __init__(
        self, db: Database, settings: SchedulerSettings, *, elected: Hook, deposed: Hook
    ) -> None:
        self.db = db
        self.settings = settings
        self._elected = elected
        self._deposed = deposed
        self.leader = False
        self.key: int | None = settings.lock_id or None

    async def run(self, stop: asyncio.Event) -> None:
        """Lead or stand by until `stop` is set; then give the scheduler (and lock) up. Any
        failure (the database gone, a scheduler that could not start) is retried after a
        takeover interval, so a replica never silently stops competing."""
        engine = None
        if not self.db.is_sqlite:
            # The lock's connection is psycopg's whatever the pool's driver: libpq's client
            # keepalives notice a dead network within seconds, and asyncpg has no such setting.
            engine = create_async_engine(
                psycopg_url(self.db.url), poolclass=NullPool, connect_args=CLIENT_KEEPALIVES
            )
        try:
            while not stop.is_set():
                try:
                    if engine is None:
                        await self._lead_until(stop, None)
                    else:
                        await self._session(engine, stop)
                except Exception as exc:
                    cause = exc.orig if isinstance(exc, DBAPIError) else exc
                    log.warning(
                        "scheduler: %s; trying again in %ss",
                        type(cause).__name__,
                        self.settings.takeover_seconds,
                    )
                    await _wait(stop, self.settings.takeover_seconds)
        finally:
            if engine is not None:
                await engine.dispose()

    async def _session(self, engine: AsyncEngine, stop: asyncio.Event) -> None:
        """One lock connection: try for the lock until won (then lead) or stopping."""
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in SERVER_KEEPALIVES:
                await conn.exec_driver_sql(statement)
            if self.key is None:
                row = (
                    await conn.execute(text("SELECT current_database(), current_schema()"))
                ).one()
                self.key = lock_key(str(row[0]), str(row[1]))
            key = self.key
            while not stop.is_set():
                acquired = await conn.scalar(
                    text("SELECT pg_try_advisory_lock(:key)"), {"key": key}
                )
                if acquired:
                    try:
                        await self._lead_until(stop, conn)
                    finally:
                        with contextlib.suppress(Exception):
                            await asyncio.wait_for(
                                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key}),
                                timeout=2,
                            )
                    return
                await _wait(stop, self.settings.takeover_seconds)

    async def _lead_until(self, stop: asyncio.Event, conn: AsyncConnection | None) -> None:
        """Run the scheduler until `stop`, or until the lock connection stops answering.

        A new holder first waits one takeover interval: a previous holder whose session just
        ended pings twice as often (each ping bounded by the same half interval), so by then it
        has noticed and stopped its scheduler, and the two never run side by side."""
        beat = self.settings.takeover_seconds / 2
        if conn is not None:
            for _ in range(2):
                await _wait(stop, beat)
                await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=beat)
            if stop.is_set():
                return
        self.leader = True
        log.info("this replica now runs the scheduler")
        try:
            await self._elected()
            while not stop.is_set():
                await _wait(stop, beat)
                if conn is not None and not stop.is_set():
                    await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=beat)
        finally:
            self.leader = False
            log.info("this replica no longer runs the scheduler")
            await self._deposed()


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)

"""The database handle: one engine and one session factory, made by the composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from bot.errors import ConfigError, NotSaved, NotStorable
from bot.store.groupcommit import GroupCommit, Work

T = TypeVar("T")

# A server that does not answer within this long counts as unreachable at start.
CONNECT_SECONDS = 15.0
URL_FIX = "fix bot.database_url (CYCLES_DATABASE_URL)"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; the busy timeout waits instead of failing at once.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class StartupFailed(ConfigError):
    """The database cannot be used at start; the message is one line: what and how to fix it."""


def _make_folder(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StartupFailed(
            f"database: cannot create the folder {folder} ({exc.strerror or exc}); set "
            "bot.data_dir (CYCLES_DATA_DIR) to a writable folder."
        ) from None


class Database:
    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        if self.is_sqlite:
            path = url.split(":///", 1)[1] if ":///" in url else ""
            if path and path != ":memory:":
                _make_folder(Path(path).parent)
            # hide_parameters: statements and errors never carry entry text into a log.
            # No reset when a connection goes back to the pool: every session and connection
            # has ended its transaction by then (commit, or the rollback of a failure), and on
            # aiosqlite the pool's extra ROLLBACK is one more trip through the driver's thread,
            # which made a read-only command like `help` take about twice as long.
            self.engine: AsyncEngine = create_async_engine(
                url, echo=echo, hide_parameters=True, pool_reset_on_return=None
            )
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
        else:
            # pre_ping: a PostgreSQL restart costs one reconnect, not a failed request.
            self.engine = create_async_engine(
                url,
                echo=echo,
                hide_parameters=True,
                pool_pre_ping=True,
                pool_size=10,
                max_overflow=10,
            )
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.group = GroupCommit(self.begin)

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncSession]:
        """One transaction per use case. A database failure becomes NotSaved for the person."""
        try:
            async with self.sessions.begin() as session:
                yield session
        except (OperationalError, DBAPIError) as exc:
            if isinstance(exc.orig, _integrity_errors()):
                raise
            # A value the database can never store (a string too big, a number out of range)
            # is the person's to change, not a reason to try again.
            if isinstance(exc, DataError):
                raise NotStorable() from exc
            raise NotSaved() from exc

    async def write(self, work: Work[T]) -> T:
        """A command's short write, committed together with other commands' writes (see
        groupcommit.py); returns once it has committed. Failures as in `begin`."""
        return await self.group.run(work)

    async def dispose(self) -> None:
        await self.group.close()
        await self.engine.dispose()


def _integrity_errors() -> tuple[type[BaseException], ...]:
    import sqlite3

    import psycopg

    return (sqlite3.IntegrityError, psycopg.IntegrityError)

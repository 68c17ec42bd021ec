"""SQLite connections that run their statements on the event loop's own thread.

aiosqlite runs every call (cursor, execute, fetch, commit) on a thread of its own and hands
the result back through the event loop: several thread hand-offs per statement. A command's
statements on a local SQLite file take microseconds each, and the hand-offs cost far more:
measured with `python -m bench --only ack`, they were most of a check-in's time. Here a call
runs in place, and only one that finds the database locked by another writer goes to the
connection's thread, which waits for the lock there (up to `PATIENCE_MS`) while the event
loop serves everything else, as before.

A statement that finds the database busy has done nothing, so running it again on the thread
is safe."""

from __future__ import annotations

import sqlite3
from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any

import aiosqlite

# How long a statement waits for another writer's lock, on the connection's thread.
PATIENCE_MS = 5000


def _busy(exc: sqlite3.OperationalError) -> bool:
    code = getattr(exc, "sqlite_errorcode", None)
    if code is None:  # without the code: sqlite3's words for SQLITE_BUSY
        return "database is locked" in str(exc)
    return bool(code & 0xFF == sqlite3.SQLITE_BUSY)


def _patiently(conn: sqlite3.Connection, call: Callable[[], Any]) -> Any:
    """`call` on the connection's thread, waiting for the lock as long as PATIENCE_MS."""
    conn.execute(f"PRAGMA busy_timeout={PATIENCE_MS}")
    try:
        return call()
    finally:
        conn.execute("PRAGMA busy_timeout=0")


class LoopConnection(aiosqlite.Connection):
    """An aiosqlite connection whose calls run in place, never waiting for a lock there."""

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        try:
            return fn(*args, **kwargs)
        except sqlite3.OperationalError as exc:
            if not _busy(exc):
                raise
        waiting = partial(_patiently, self._connection, partial(fn, *args, **kwargs))
        return await super()._execute(waiting)  # type: ignore[no-untyped-call]


def connector(path: str) -> Callable[[], Awaitable[LoopConnection]]:
    """For `create_async_engine(async_creator=…)`: a connection to the file at `path`. The
    connection may be used from the loop's thread and from its own, so it is not tied to one;
    busy_timeout 0 makes a locked database answer at once instead of blocking the loop."""

    def make() -> sqlite3.Connection:
        return sqlite3.connect(path, timeout=0, check_same_thread=False)

    async def connect() -> LoopConnection:
        connection = LoopConnection(make, iter_chunk_size=64)
        connection._thread.daemon = True  # as SQLAlchemy does: never holds the process open
        await connection
        return connection

    return connect

"""SQLite statements run on the event loop's thread, and one that meets another writer's lock
waits for it on the connection's thread while the loop goes on."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from bot.store.database import Database


async def test_statements_run_on_the_event_loops_own_thread(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'loop.sqlite3'}")

    @event.listens_for(db.engine.sync_engine, "connect")
    def thread_of(dbapi_connection: Any, _record: Any) -> None:
        # A function SQLite calls from whichever thread runs the statement.
        dbapi_connection.driver_connection._conn.create_function(
            "thread_id", 0, threading.get_ident
        )

    try:
        async with db.begin() as session:
            ran_on = (await session.execute(text("SELECT thread_id()"))).scalar_one()
        assert ran_on == threading.get_ident()
    finally:
        await db.dispose()


async def test_a_write_waits_for_another_writers_lock_without_holding_up_the_loop(
    tmp_path: Path,
) -> None:
    path = tmp_path / "locked.sqlite3"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        async with db.begin() as session:
            await session.execute(text("CREATE TABLE notes (body TEXT)"))
        other = sqlite3.connect(path, isolation_level=None)  # another process, say
        other.execute("BEGIN IMMEDIATE")  # holds the write lock
        other.execute("INSERT INTO notes VALUES ('theirs')")

        async def ours() -> None:
            async with db.begin() as session:
                await session.execute(text("INSERT INTO notes VALUES ('ours')"))

        writing = asyncio.create_task(ours())
        ticks = 0
        for _ in range(20):  # the loop keeps turning while our write waits for the lock
            await asyncio.sleep(0.01)
            ticks += 1
        assert not writing.done()
        other.execute("COMMIT")
        other.close()
        await asyncio.wait_for(writing, 10)
        assert ticks == 20
        async with db.begin() as session:
            bodies = (await session.execute(text("SELECT body FROM notes"))).scalars().all()
        assert sorted(bodies) == ["ours", "theirs"]
    finally:
        await db.dispose()

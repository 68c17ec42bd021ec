"""The database handle's reads on PostgreSQL: one statement each, and a dropped connection costs
a reconnect, not a failed read."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.database import Database
from tests.conftest import PG_URL
from tests.support.postgres import synchronous


def postgres_only(db: Database) -> None:
    if db.is_sqlite:
        pytest.skip("PostgreSQL's read pool")


async def test_a_read_is_outside_any_transaction(db: Database) -> None:
    """In autocommit each statement is its own transaction, so now() moves between two of
    them; inside one transaction (a BEGIN first, a ROLLBACK as it goes back) it would not."""
    postgres_only(db)

    async def twice(connection: AsyncConnection) -> tuple[object, object]:
        first = await connection.scalar(text("SELECT now()"))
        return first, await connection.scalar(text("SELECT now()"))

    first, second = await db.read(twice)
    assert first != second


async def test_a_read_whose_connection_the_server_dropped_is_answered(db: Database) -> None:
    postgres_only(db)
    before = await db.read(lambda c: c.scalar(text("SELECT pg_backend_pid()")))
    admin = create_engine(synchronous(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:  # what a server restart does to the pooled connection
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": before})
    finally:
        admin.dispose()
    await asyncio.sleep(0.2)  # the backend has gone, not merely been told to go
    after = await db.read(lambda c: c.scalar(text("SELECT pg_backend_pid()")))
    assert isinstance(after, int)
    assert after != before

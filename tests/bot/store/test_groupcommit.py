"""Group commit: concurrent writes share transactions, each is answered only once its own has
committed, and a failure reaches exactly the writes it affected. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound, NotSaved
from bot.store.database import Database
from bot.store.groupcommit import Work
from bot.store.models import AppState
from bot.store.upsert import insert_ignore


def put(key: str) -> Work[bool]:
    async def work(session: AsyncSession) -> bool:
        return await insert_ignore(session, AppState, {"key": key, "value": "v"}, ["key"])

    return work


async def keys(db: Database) -> set[str]:
    async with db.begin() as session:
        return set((await session.execute(select(AppState.key))).scalars())


async def test_fifty_concurrent_writes_share_a_few_transactions(db: Database) -> None:
    results = await asyncio.gather(*(db.write(put(f"k{n}")) for n in range(50)))
    assert results == [True] * 50
    assert await keys(db) == {f"k{n}" for n in range(50)}
    assert 1 <= db.group.transactions <= 5


async def test_a_write_is_answered_only_after_its_transaction_committed(db: Database) -> None:
    """What a write returns is already visible to another connection."""
    seen: list[int] = []

    async def written(n: int) -> None:
        await db.write(put(f"k{n}"))
        async with db.engine.connect() as other:  # a connection of its own
            query = select(func.count()).select_from(AppState).where(AppState.key == f"k{n}")
            seen.append(int((await other.execute(query)).scalar_one()))

    await asyncio.gather(*(written(n) for n in range(20)))
    assert seen == [1] * 20


async def test_a_failing_write_fails_alone_and_the_others_commit(db: Database) -> None:
    async def refused(session: AsyncSession) -> bool:
        await put("refused")(session)  # written, then undone with the failure
        raise NotFound("There is no experiment #9.")

    outcomes = await asyncio.gather(
        *(db.write(put(f"k{n}")) for n in range(5)),
        db.write(refused),
        *(db.write(put(f"k{n}")) for n in range(5, 10)),
        return_exceptions=True,
    )
    assert isinstance(outcomes[5], NotFound)
    assert [o for i, o in enumerate(outcomes) if i != 5] == [True] * 10
    assert await keys(db) == {f"k{n}" for n in range(10)}


async def test_a_write_the_database_refuses_is_not_saved_and_only_it(db: Database) -> None:
    async def broken(session: AsyncSession) -> bool:
        await session.execute(text("SELECT no_such_column FROM no_such_table"))
        return True

    outcomes = await asyncio.gather(
        db.write(put("a")), db.write(broken), db.write(put("b")), return_exceptions=True
    )
    assert outcomes[0] is True and outcomes[2] is True
    assert isinstance(outcomes[1], NotSaved)
    assert await keys(db) == {"a", "b"}


async def test_a_replayed_key_inside_one_transaction_is_written_once(db: Database) -> None:
    """Idempotent writes stay idempotent when coalesced: the second sees the first."""
    outcomes = await asyncio.gather(db.write(put("same")), db.write(put("same")))
    assert sorted(outcomes) == [False, True]
    assert await keys(db) == {"same"}


async def test_closing_commits_what_is_queued(db: Database) -> None:
    pending = [asyncio.ensure_future(db.write(put(f"k{n}"))) for n in range(10)]
    await asyncio.sleep(0)
    await db.group.close()
    assert [await p for p in pending] == [True] * 10
    assert len(await keys(db)) == 10


async def test_on_postgresql_a_slow_transaction_does_not_hold_back_the_next(
    db: Database,
) -> None:
    """PostgreSQL writes several transactions at once (the server answers each statement in
    turn); SQLite has one writer, so there they commit one after another."""
    finished: list[str] = []

    async def slow(session: AsyncSession) -> bool:
        if not db.is_sqlite:
            await session.execute(text("SELECT pg_sleep(2)"))
        else:  # SQLite has no sleep: a long write stands in for it
            await session.execute(
                text(
                    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                    "WHERE i < 3000000) SELECT count(*) FROM n"
                )
            )
        return await put("slow")(session)

    async def written(name: str, work: Work[bool]) -> None:
        await db.write(work)
        finished.append(name)

    # Two connections open before the clock matters: a new one can take long on a busy machine.
    async with db.begin() as one, db.begin() as two:
        await one.execute(text("SELECT 1"))
        await two.execute(text("SELECT 1"))
    first = asyncio.ensure_future(written("slow", slow))
    await asyncio.sleep(0.1)  # the slow transaction has begun
    await written("quick", put("quick"))
    await first
    assert finished == (["slow", "quick"] if db.is_sqlite else ["quick", "slow"])
    assert await keys(db) == {"slow", "quick"}

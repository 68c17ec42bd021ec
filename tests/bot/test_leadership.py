from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from bot.config import SchedulerSettings
from bot.leadership import Leadership, lock_key
from bot.store.database import Database
from tests.conftest import PG_URL, empty_database
from tests.support.postgres import synchronous

needs_postgres = pytest.mark.skipif(not PG_URL, reason="CYCLES_TEST_POSTGRES_URL is not set")
FAST = SchedulerSettings(takeover_seconds=0.2)


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    with empty_database("postgresql", tmp_path) as url:
        yield url


class Replica:
    """One replica's election, with a log of what it was told."""

    def __init__(self, url: str, name: str, log: list[str]) -> None:
        self.db = Database(url)
        self.name = name
        self.log = log
        self.stop = asyncio.Event()

        async def elected() -> None:
            log.append(f"{name} elected")

        async def deposed() -> None:
            log.append(f"{name} deposed")

        self.election = Leadership(self.db, FAST, elected=elected, deposed=deposed)
        self.task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self.task = asyncio.create_task(self.election.run(self.stop))

    async def close(self) -> None:
        self.stop.set()
        if self.task is not None:
            await asyncio.wait_for(self.task, 10)
        await self.db.dispose()


async def until(condition: Callable[[], bool], within: float = 10.0) -> float:
    """Wait for `condition`; returns how long it took."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, "timed out"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


def test_lock_keys_are_stable_and_differ_by_schema() -> None:
    assert lock_key("cycles", "public") == lock_key("cycles", "public")
    assert lock_key("cycles", "public") != lock_key("cycles", "tenant_b")
    assert -(2**63) <= lock_key("cycles", "public") < 2**63


async def test_sqlite_has_one_process_so_it_just_leads(tmp_path: Path) -> None:
    log: list[str] = []
    replica = Replica(f"sqlite+aiosqlite:///{tmp_path / 'x.sqlite3'}", "a", log)
    replica.start()
    await until(lambda: replica.election.leader)
    await replica.close()
    assert log == ["a elected", "a deposed"]
    assert not replica.election.leader


@needs_postgres
async def test_one_replica_leads_and_another_takes_over_when_it_stops(pg_url: str) -> None:
    log: list[str] = []
    a, b = Replica(pg_url, "a", log), Replica(pg_url, "b", log)
    a.start()
    await until(lambda: a.election.leader)
    b.start()
    await asyncio.sleep(0.6)  # several tries by b
    assert not b.election.leader
    await a.close()
    took = await until(lambda: b.election.leader)
    assert took < 1.0  # within a try or two
    await b.close()
    assert log == ["a elected", "a deposed", "b elected", "b deposed"]


@needs_postgres
async def test_an_asyncpg_url_with_tls_settings_still_elects_a_leader(pg_url: str) -> None:
    """The lock's connection is psycopg's: asyncpg's `ssl=` reaches it as libpq's `sslmode=`."""
    url = (
        make_url(pg_url).set(drivername="postgresql+asyncpg").update_query_dict({"ssl": "disable"})
    )
    log: list[str] = []
    a = Replica(url.render_as_string(hide_password=False), "a", log)
    a.start()
    await until(lambda: a.election.leader)
    await a.close()
    assert log == ["a elected", "a deposed"]


@needs_postgres
async def test_a_leader_whose_session_dies_steps_down_and_is_replaced(pg_url: str) -> None:
    log: list[str] = []
    a, b = Replica(pg_url, "a", log), Replica(pg_url, "b", log)
    a.start()
    await until(lambda: a.election.leader)
    b.start()
    key = a.election.key
    assert key is not None
    unsigned = key & (2**64 - 1)
    admin = create_engine(synchronous(PG_URL), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:  # what PostgreSQL does when the holder's machine dies
            killed = conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' "
                    "AND granted AND classid = :hi AND objid = :lo"
                ),
                {"hi": unsigned >> 32, "lo": unsigned & 0xFFFFFFFF},
            ).all()
        assert len(killed) == 1
    finally:
        admin.dispose()
    await until(lambda: "a deposed" in log)
    await until(lambda: b.election.leader or a.election.leader)
    await b.close()
    await a.close()
    assert log.count("a elected") + log.count("b elected") == log.count("a deposed") + log.count(
        "b deposed"
    )
    # Never two at once: every election follows the previous leader's deposition.
    leading: set[str] = set()
    for entry in log:
        name, what = entry.split()
        if what == "elected":
            assert not leading, log
            leading.add(name)
        else:
            leading.discard(name)


async def test_a_scheduler_that_fails_to_start_is_tried_again(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'y.sqlite3'}")
    tries: list[str] = []

    async def elected() -> None:
        tries.append("elected")
        if len(tries) == 1:
            raise RuntimeError("database busy")

    async def deposed() -> None:
        tries.append("deposed")

    stop = asyncio.Event()
    election = Leadership(db, FAST, elected=elected, deposed=deposed)
    task = asyncio.create_task(election.run(stop))
    await until(lambda: tries.count("elected") == 2 and election.leader)
    stop.set()
    await asyncio.wait_for(task, 5)
    await db.dispose()
    assert tries == ["elected", "deposed", "elected", "deposed"]

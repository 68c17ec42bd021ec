"""Fault 6: a bot killed with SIGKILL in the middle of a burst of check-ins, whose writes are
committed together (bot/store/groupcommit.py): every check-in a person was told was saved is in
the database, and sending again the ones that were not answered stores each exactly once.

Fifty people check in at once, over and over; the kill lands while commands are queued, being
written and waiting for their commit. SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from bot.store.models import CheckIn
from tests.faults.conftest import MakeBot
from tests.support.postgres import synchronous
from tests.support.processes import BotProcess, until

CLIENTS = 50
SAVED = re.compile(r"Saved check-in #(\d+)")
EXPERIMENT = (
    'experiment new title="Home visits" hypothesis="Visits build trust" '
    'try="Visit at home" expect="More come back"'
)


def checkin(key: str) -> str:
    return f'checkin 1 happened="Visit {key}" surprise=60 confidence=55'


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"
    return str(request.getfixturevalue("pg_url"))


async def burst(bot: BotProcess, saved: dict[str, int], sent: list[str]) -> None:
    """Fifty clients checking in until the bot stops answering."""

    async def client(n: int) -> None:
        for i in range(10_000):
            key = f"c{n}-{i}"
            sent.append(key)
            try:
                answer = await bot.command(
                    checkin(key), user=f"u{n:02}", source_key=f"k:{key}", within=10
                )
            except Exception:
                return  # the bot is gone
            found = SAVED.search(str(answer.get("text")))
            assert found, answer
            saved[key] = int(found.group(1))

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))


async def test_no_saved_check_in_is_lost_to_a_kill(database: str, bots: MakeBot) -> None:
    first = await bots("first", database).start().ready()
    made = await first.command(EXPERIMENT, user="fran", role="facilitator")
    assert "#1" in made["text"], made
    saved: dict[str, int] = {}
    sent: list[str] = []
    running = asyncio.ensure_future(burst(first, saved, sent))
    # Well into the burst: writes queued, in flight and committing.
    await until(lambda: len(saved) >= 300, 60, "300 check-ins saved", first)
    first.kill()
    await running
    assert len(sent) > len(saved)  # some were in flight when it died

    sql = create_engine(synchronous(database))  # the test's own synchronous view
    try:
        with sql.connect() as conn:
            rows = dict(conn.execute(select(CheckIn.source_key, CheckIn.id)).all())
        # Every "Saved" answer is a row, with the id the person was told.
        assert {key: rows.get(f"k:{key}") for key in saved} == saved

        # Sent again after a restart, every check-in is stored once: those that were saved
        # (told or not) are found by their key, the rest are saved now.
        second = await bots("second", database).start().ready()
        for key in sent:
            answer = await second.command(checkin(key), user="u00", source_key=f"k:{key}")
            assert "check-in #" in str(answer["text"]), answer
        with sql.connect() as conn:
            total = conn.execute(select(func.count()).select_from(CheckIn)).scalar_one()
            keys = conn.execute(select(func.count(func.distinct(CheckIn.source_key)))).scalar()
        assert total == keys == len(set(sent))
        assert await second.terminate() == 0
    finally:
        sql.dispose()

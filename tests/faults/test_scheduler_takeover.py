"""Fault 3: kill (SIGKILL) the replica that runs the scheduler: the other takes over within
seconds and the next job still runs.

A round is due to close a moment after the kill. Closing it (and posting its summary) is the
scheduler's job, and only the standby is left to do it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update

from bot.store.models import Round
from tests.faults.conftest import MakeBot
from tests.support.loopback import FakePlatform
from tests.support.processes import BotProcess, until


async def role(bot: BotProcess) -> str:
    return str((await bot.health())["scheduler"])


async def test_the_standby_takes_the_scheduler_over_and_closes_the_due_round(
    pg_url: str, sql: Engine, platform: FakePlatform, bots: MakeBot
) -> None:
    platform.add_channel("learning", [("ada", "Ada", "UTC"), ("bo", "Bo", "Asia/Tokyo")])
    first = await bots("first", pg_url).start().ready()

    async def first_leads() -> bool:
        return await role(first) == "leader"

    await until(first_leads, 15, "the first replica to lead", first)
    second = await bots("second", pg_url).start().ready()
    assert await role(second) == "standby"

    reply = await first.command("round start for 1d", user="fran", role="facilitator")
    assert "has started" in reply["text"], reply
    await until(lambda: len(platform.posts) == 3, 10, "the prompts", first)
    with sql.begin() as conn:  # the round is due to close two seconds from now
        closes = datetime.now(UTC) + timedelta(seconds=2)
        conn.execute(update(Round).values(closes_at=closes))

    first.kill()
    killed = time.monotonic()

    async def second_leads() -> bool:
        return await role(second) == "leader"

    took = await until(second_leads, 15, "the standby to take over", second)
    assert took < 5, f"took {took:.1f}s to take over"

    def summaries() -> list[str]:
        return [p.text for p in platform.posts_to("learning") if "is closed" in p.text]

    await until(summaries, 15, "the round summary", second)
    assert time.monotonic() - killed < 10
    with sql.connect() as conn:
        state, summary = conn.execute(select(Round.state, Round.summary)).one()
    assert state == "closed"
    assert summary is not None
    assert len(summaries()) == 1
    assert "0 of 3 members answered" in summaries()[0]
    assert await second.terminate() == 0

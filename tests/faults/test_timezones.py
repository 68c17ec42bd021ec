"""Fault 5: a scheduled round across three time zones reaches each member at 09:00 their time.

A real bot process runs on a clock the test moves (a file it reads), so a whole Sunday evening
to Monday afternoon passes in seconds. The week chosen is one where New York has already
switched to summer time and London has not: 09:00 is 00:00 UTC in Tokyo, 09:00 UTC in London
and 13:00 UTC in New York."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, select

from bot.store.models import Round
from tests.faults.conftest import MakeBot
from tests.support.loopback import FakePlatform, Post
from tests.support.processes import BotProcess, until

START = datetime(2027, 3, 21, 17, 0, tzinfo=UTC)  # Sunday evening
PEOPLE = [
    ("tomo", "Tomo", "Asia/Tokyo"),
    ("lee", "Lee", "Europe/London"),
    ("nia", "Nia", "America/New_York"),
]
NINE_AM = {
    "tomo": datetime(2027, 3, 22, 0, 0, tzinfo=UTC),
    "lee": datetime(2027, 3, 22, 9, 0, tzinfo=UTC),
    "nia": datetime(2027, 3, 22, 13, 0, tzinfo=UTC),
}
QUIET = 0.8  # long enough for the process to act on a new time (it looks every 0.1-0.2 s)


class MovedClock:
    """The clock file the bot reads, and the label the fake platform stamps posts with."""

    def __init__(self, path: Path, platform: FakePlatform) -> None:
        self.path = path
        self.platform = platform

    def set(self, moment: datetime) -> None:
        partial = self.path.with_suffix(".tmp")
        partial.write_text(moment.isoformat())
        partial.replace(self.path)
        self.platform.now = moment.isoformat()


def prompts(platform: FakePlatform) -> list[Post]:
    return [p for p in platform.posts if p.kind == "dm" and "(round #" in p.text]


def rounds(sql: Engine) -> int:
    with sql.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Round)).scalar_one())


async def test_a_scheduled_round_reaches_everyone_at_nine_their_time(
    pg_url: str, sql: Engine, platform: FakePlatform, bots: MakeBot, tmp_path: Path
) -> None:
    platform.add_channel("learning", PEOPLE)
    clock = MovedClock(tmp_path / "clock", platform)
    clock.set(START)
    bot: BotProcess = await bots("bot", pg_url, clock_file=clock.path).start().ready()

    async def leads() -> bool:
        return bool((await bot.health())["scheduler"] == "leader")

    await until(leads, 15, "the scheduler", bot)
    reply = await bot.command(
        "round schedule 0 9 * * mon weekly-reflection for 2d", user="fran", role="facilitator"
    )
    assert "now start on `0 9 * * mon`" in reply["text"], reply
    # The schedule is picked up by the next resync (every second of the bot's clock).
    clock.set(START + timedelta(seconds=5))
    await asyncio.sleep(QUIET)

    # Monday 09:00 comes first at UTC+14: Sunday 19:00 UTC. The round opens then, not before.
    clock.set(datetime(2027, 3, 21, 18, 59, tzinfo=UTC))
    await asyncio.sleep(QUIET)
    assert rounds(sql) == 0
    clock.set(datetime(2027, 3, 21, 19, 0, tzinfo=UTC))
    await until(lambda: rounds(sql) == 1, 10, "the scheduled round to open", bot)
    await asyncio.sleep(QUIET)
    assert prompts(platform) == []  # opened, but it is 09:00 nowhere our members are

    reached: dict[str, datetime] = {}
    for who, nine in sorted(NINE_AM.items(), key=lambda item: item[1]):
        clock.set(nine - timedelta(minutes=1))
        await asyncio.sleep(QUIET)
        assert {p.target for p in prompts(platform)} == set(reached), f"{who} asked early"
        clock.set(nine)
        await until(
            lambda who=who: who in {p.target for p in prompts(platform)},
            10,
            f"{who}'s prompt at 09:00 local",
            bot,
        )
        reached[who] = nine

    delivered = {p.target: datetime.fromisoformat(p.at) for p in prompts(platform)}
    assert delivered == NINE_AM
    assert len(prompts(platform)) == 3
    # Each prompt shows the close time on its reader's clock: two days after New York's start.
    tokyo = next(p.text for p in prompts(platform) if p.target == "tomo")
    assert "Wed 24 Mar 22:00 (Asia/Tokyo)" in tokyo
    assert await bot.terminate() == 0

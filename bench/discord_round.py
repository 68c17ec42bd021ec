"""7. A Discord round to `fanout_members` people right after a restart, the people known before.

A first bot (fast pacing, as a warm-up) sends a round in one channel of a FakeDiscord server,
which opens every member's DM channel; it stops, and a second bot on the same database starts
with the production pacing (`discord.send_rate_per_second`, `discord.dm_open_rate_per_second`
at their defaults) and starts a round in another channel of the same people. The clock runs
from that slash command to the last prompt posted. The baseline is the least time the send pace
allows for that many posts; opening the DM channels again (paced at 5 a second, as Discord
watches it for spam) would add some 200 s for 1,000 people. Every member must get exactly one
prompt of each round."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.suite import Outcome, Row, Scale
from bot.app import App, build_app
from bot.config import DiscordSettings, load_settings
from integrations.discord.adapter import DiscordAdapter
from tests.integrations.discord.helpers import make_facilitator
from tests.support.fake_discord import FakeDiscord

TARGET = 1.2
FAST = "1000"


async def start_bot(fake: FakeDiscord, data: Path, **pace: str) -> App:
    env = {
        "CYCLES_CONFIG": "none",
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_URL": fake.api_url,
        "CYCLES_DATA_DIR": str(data),
        "CYCLES_DISCORD__GUILD_READY_TIMEOUT": "0.05",
        "CYCLES_BOT__LOG_LEVEL": "WARNING",
        **pace,
    }
    app = await build_app(load_settings(path=None, env=env), with_scheduler=False)
    app.add_adapter(DiscordAdapter(app.port))
    await app.start()
    return app


async def until_everyone_has(
    fake: FakeDiscord, people: list[int], count: int, within: float = 900.0
) -> None:
    deadline = time.monotonic() + within
    while any(len(fake.dms(u)) < count for u in people):
        if time.monotonic() > deadline:
            short = sum(1 for u in people if len(fake.dms(u)) < count)
            raise TimeoutError(f"{short} of {len(people)} members lack prompt {count}")
        await asyncio.sleep(0.05)


async def run(scale: Scale) -> Outcome:
    n = scale.fanout_members
    fake = FakeDiscord()
    await fake.start()
    try:
        guild = fake.add_guild(members=n - 1)  # and its owner: n people
        first = fake.add_channel(guild, "first")
        second = fake.add_channel(guild, "second")
        people = fake.humans(guild)
        facilitator = people[1]
        make_facilitator(fake, guild, facilitator)
        with tempfile.TemporaryDirectory(prefix="cycles-bench-discord-") as tmp:
            data = Path(tmp) / "data"
            warm = await start_bot(
                fake,
                data,
                CYCLES_DISCORD__SEND_RATE_PER_SECOND=FAST,
                CYCLES_DISCORD__DM_OPEN_RATE_PER_SECOND=FAST,
            )
            try:
                asked = await fake.slash(guild, first, facilitator, "round start", {})
                await fake.answered(asked)
                await until_everyone_has(fake, people, 1)
            finally:
                await warm.stop()
            opened_before = len(fake.requests("POST", "/users/@me/channels"))
            pace: dict[str, str] = {}
            if scale.discord_rate:  # else the production default
                pace["CYCLES_DISCORD__SEND_RATE_PER_SECOND"] = str(scale.discord_rate)
            bot = await start_bot(fake, data, **pace)
            rate = scale.discord_rate or DiscordSettings().send_rate_per_second
            try:
                started = time.monotonic()
                asked = await fake.slash(guild, second, facilitator, "round start", {})
                await fake.answered(asked)
                await until_everyone_has(fake, people, 2)
                seconds = time.monotonic() - started
                await asyncio.sleep(0.5)  # a prompt sent twice would have arrived by now
            finally:
                await bot.stop()
        opened_again = len(fake.requests("POST", "/users/@me/channels")) - opened_before
        counts = [len(fake.dms(u)) for u in people]
    finally:
        await fake.stop()
    least = n / rate
    duplicates = sum(c - 2 for c in counts if c > 2)
    details: dict[str, Any] = {
        "members": n,
        "seconds": seconds,
        "send_rate_per_s": rate,
        "minimum_seconds": least,
        "dm_channels_opened_again": opened_again,
        "duplicates": duplicates,
    }
    rows = [
        Row(
            "discord",
            f"round to {n} members right after a restart, all prompts posted",
            seconds,
            "s",
            least,
            f"(pace minimum: {rate:.0f} posts/s)",
            seconds / least,
            f"<= {TARGET}x minimum",
            seconds / least <= TARGET,
        ),
        Row(
            "discord",
            "DM channels opened again after the restart",
            opened_again,
            "",
            target="0",
            met=opened_again == 0,
        ),
        Row("discord", "duplicates", duplicates, "", target="0", met=duplicates == 0),
    ]
    return Outcome("discord", rows=rows, details=details)

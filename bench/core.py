"""9. Commands through the core alone: no platform, no HTTP.

`help`, `round status` and `checkin` from 50 people at once straight into the composition
root's port (bot.app.build_app), on a SQLite file, in this process: what a command costs the
core, and how many statements it sends, apart from what Slack's HTTP mode adds (compare the
steady rows). The baseline is the floor a command cannot go under: one short Core select (the
who-and-where every command starts with) on a plain connection of the same database, as many
times, as many at once."""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import event, select

from bench.suite import Outcome, Row, Scale, median, ratio

CONCURRENCY = 50
COMMANDS = {
    "help": "help",
    "round status": "round status",
    "checkin": 'checkin 1 happened="Walked the estate, visit {i}" surprise=60 confidence=55',
}
EXPERIMENT = (
    'experiment new title="Home visits" hypothesis="Visits at home build trust" '
    'try="Visit every new family at home" expect="More families come back"'
)


async def timed(count: int, one: Callable[[int], Awaitable[Any]]) -> float:
    """Seconds for `count` calls of `one`, CONCURRENCY at a time."""
    numbers = iter(range(count))

    async def worker() -> None:
        for i in numbers:
            await one(i)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started


async def run(scale: Scale) -> Outcome:
    from bot.app import build_app
    from bot.config import load_settings
    from bot.domain import Actor, ChannelRef, MemberInfo, Platform, Role
    from bot.store.models import Member
    from tests.support.adapter import RecordingAdapter

    outcome = Outcome("core")
    with tempfile.TemporaryDirectory(prefix="cycles-bench-core-") as tmp:
        env = {"CYCLES_CONFIG": "none", "CYCLES_DATA_DIR": tmp, "CYCLES_BOT__LOG_LEVEL": "WARNING"}
        app = await build_app(load_settings(path=None, env=env), with_scheduler=False)
        try:
            here = ChannelRef(Platform.CONSOLE, "console", "learning")
            people = [
                Actor(Platform.CONSOLE, "console", f"u{n}", f"Person {n}", "Europe/London")
                for n in range(CONCURRENCY)
            ]
            lead = Actor(Platform.CONSOLE, "console", "lead", "Lead", None, Role.FACILITATOR)
            infos = [MemberInfo(p.user_id, p.display_name, p.timezone) for p in people]
            app.deps.adapters.add(RecordingAdapter(members={here.channel: infos}))
            port = app.port
            await port.handle(lead, here, EXPERIMENT)
            await port.handle(lead, here, "round start")
            for person in people:  # known members: creating one is a write of its own
                await port.handle(person, here, "help")
            sent: Counter[str] = Counter()

            def count(*_args: Any) -> None:
                sent["statements"] += 1

            for engine in app.deps.db.engines:
                event.listen(engine.sync_engine, "before_cursor_execute", count)
            floor_query = select(Member.id).where(Member.user_id == "u1")

            async def floor(_i: int) -> None:
                await app.deps.db.read(lambda c: c.scalar(floor_query))

            await timed(CONCURRENCY, floor)  # warm, as the commands were
            base = median(
                [scale.core_commands / await timed(scale.core_commands, floor) for _ in range(3)]
            )
            for name, text in COMMANDS.items():
                rates = []
                for repeat in range(scale.repeats):
                    sent.clear()

                    async def one(i: int, text: str = text, repeat: int = repeat) -> None:
                        who = people[i % CONCURRENCY]
                        key = f"bench:{repeat}:{i}"
                        await port.handle(who, here, text.format(i=i), source_key=key)

                    seconds = await timed(scale.core_commands, one)
                    rates.append(scale.core_commands / seconds)
                    statements = sent["statements"] / scale.core_commands
                rate = median(rates)
                outcome.rows += [
                    Row(
                        "core",
                        f"{name}: commands a second, core alone",
                        rate,
                        "per s",
                        base,
                        "(one Core select on a plain connection)",
                        ratio(rate, base),
                        note=f"{CONCURRENCY} at once, SQLite file",
                    ),
                    Row("core", f"{name}: statements per command", statements, ""),
                ]
                outcome.details[name] = {"rates": rates, "statements": statements}
            outcome.details["floor_per_s"] = base
        finally:
            await app.deps.db.dispose()
    return outcome

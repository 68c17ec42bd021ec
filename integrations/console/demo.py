"""`cycles demo`: one week of a learning group, scripted, on a fresh database and a manual clock.

Two connected cycles at different scales, experiments, a reflection round that members answer
(some surprised, one answer private), check-ins, the round closed with its summary, and the weekly
digest from the offline summariser; then members answer its themes, and the next week's digest,
curated with a facilitator's note, opens with what they said."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import TextIO

from bot.app import build_app
from bot.clock import ManualClock
from bot.config import Settings
from integrations.console.adapter import ConsoleAdapter
from integrations.console.lines import StreamLines
from integrations.console.shell import Shell


def week_script() -> list[str]:
    """The scripted week: shell lines, one command each (see demo_week.txt)."""
    return (resources.files(__package__) / "demo_week.txt").read_text("utf-8").splitlines()


def demo_start() -> datetime:
    """Monday 09:00 UTC of last week: the script runs two weeks, so the second digest is this
    week's."""
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    return today - timedelta(days=today.weekday(), weeks=1)


async def run_demo(settings: Settings, out: TextIO) -> None:
    clock = ManualClock(demo_start())
    adapter = ConsoleAdapter(out)
    app = await build_app(settings, clock=clock, adapters=[adapter], with_scheduler=False)
    try:
        for name in ("amara", "ben", "chloe", "dev", "eilidh", "farah"):
            adapter.join(name)
        out.write(
            "Learning Cycles demo: one week of a learning group (console, SQLite, offline).\n"
        )
        shell = Shell(app, adapter, StreamLines(week_script(), out), out, clock=clock)
        await shell.run()
    finally:
        await app.stop()

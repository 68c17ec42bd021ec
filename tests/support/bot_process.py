"""A bot process for fault tests: `python -m tests.support.bot_process --platform URL --ready F`.

It runs exactly what `cycles run` runs (bot.app.build_app and bot.app.serve: signals, the ops
port, the scheduler election, the outbox worker, a graceful stop), configured from the
environment like production, with the loopback adapter as its platform. Once started it writes
`{"pid", "intake", "ops"}` to the ready file.

With --clock-file the bot's clock is the ISO time in that file (the test moves it), and the
scheduler, when this process holds it, runs its jobs as that clock reaches them."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
from datetime import datetime
from pathlib import Path

from bot.app import App, build_app, serve
from bot.clock import system_clock
from bot.config import load_settings
from bot.logs import setup_logging
from bot.ops import OpsServer
from tests.support.loopback import LoopbackAdapter

DRIVE_SECONDS = 0.1


class FileClock:
    """The time written in a file, re-read when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp = -1
        self._now = datetime.min

    def __call__(self) -> datetime:
        stamp = self.path.stat().st_mtime_ns
        if stamp != self._stamp:
            self._now = datetime.fromisoformat(self.path.read_text().strip())
            self._stamp = stamp
        return self._now


async def drive(app: App) -> None:
    """Run the scheduler's due jobs as the file clock reaches them (when this replica leads)."""
    while True:
        await asyncio.sleep(DRIVE_SECONDS)
        scheduler = app.scheduler
        if scheduler is not None:
            await scheduler.run_due()


async def main(args: argparse.Namespace) -> None:
    settings = load_settings(path=None, env=os.environ)
    setup_logging(settings.bot.log_level, settings.bot.log_format)
    clock = FileClock(Path(args.clock_file)) if args.clock_file else system_clock
    app = await build_app(settings, clock=clock, scheduler_paused=bool(args.clock_file))
    adapter = LoopbackAdapter(app, args.platform)
    app.add_adapter(adapter)
    tasks: list[asyncio.Task[None]] = []

    def ready(ops: OpsServer | None) -> None:
        info = {"pid": os.getpid(), "intake": adapter.port, "ops": ops.port if ops else None}
        target = Path(args.ready)
        partial = target.with_suffix(".tmp")
        partial.write_text(json.dumps(info))
        partial.replace(target)
        if args.clock_file:
            tasks.append(asyncio.create_task(drive(app)))

    try:
        await serve(app, on_ready=ready)
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--platform", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--clock-file")
    asyncio.run(main(parser.parse_args()))

"""Waiting for a running bot in adapter tests: drain its outbox until a condition holds."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from bot.app import App


async def until(
    app: App,
    done: Callable[[], bool],
    *,
    within: float = 10.0,
    drain: bool = True,
    poll: float = 0.05,
) -> None:
    """Drain the outbox (and let background work run) until `done()` or fail."""
    deadline = time.monotonic() + within
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the bot")
        if drain:
            await app.drain_outbox()
        await asyncio.sleep(poll)

"""Acknowledgements first: under a burst, work already acknowledged waits for a gap in arrivals.

A platform counts an interaction as failed when its acknowledgement is late (Slack after 3 s),
while the answer that follows may come later (a response URL stays valid for 30 minutes). On
one event loop, the work of commands acknowledged a moment ago competes with the next requests'
acknowledgements: under a burst of 50 clients, about half the acknowledgements (`python -m
bench --only ack`). So work acknowledged while busy waits until requests stop arriving back to
back (a gap of `gap` seconds), or `longest` seconds at most, and only `at_once` such pieces run
at a time, each waiting for its own gap first. A piece mostly waits for its write's group commit,
so many run at once: with 16, that wait bounded the drain after a burst (check-ins saved and
answered, `python -m bench --only ack`: 969 a second on SQLite and 476 on PostgreSQL with 16,
1,093 and 659 with 64, 1,068 and 686 with 256)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

GAP_SECONDS = 0.005
LONGEST_SECONDS = 1.0
AT_ONCE = 64


class AcksFirst:
    def __init__(
        self, *, gap: float = GAP_SECONDS, longest: float = LONGEST_SECONDS, at_once: int = AT_ONCE
    ) -> None:
        self._gap = gap
        self._longest = longest
        self._slots = asyncio.Semaphore(at_once)
        self._last = 0.0
        self._quiet = asyncio.Event()
        self._quiet.set()

    def arrived(self) -> None:
        """A request came in (every one, before it is acknowledged)."""
        self._last = time.monotonic()
        if self._quiet.is_set():
            self._quiet.clear()
            # One timer for everyone waiting, not one each: a burst queues thousands.
            asyncio.get_running_loop().call_later(self._gap, self._check)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """Hold while doing work just acknowledged: entered at the next gap in arrivals, or once
        `longest` has passed since the call, whichever comes first."""
        deadline = time.monotonic() + self._longest
        async with self._slots:
            if not self._quiet.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._quiet.wait(), deadline - time.monotonic())
            yield

    def _check(self) -> None:
        left = self._last + self._gap - time.monotonic()
        if left > 0:  # more came in meanwhile
            asyncio.get_running_loop().call_later(left, self._check)
        else:
            self._quiet.set()

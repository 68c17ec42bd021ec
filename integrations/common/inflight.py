"""Work in progress counted, so an adapter's stop can let it finish (within a grace period)
before it closes its connections."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class InFlight:
    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()

    def __len__(self) -> int:
        return self._count

    @asynccontextmanager
    async def hold(self) -> AsyncIterator[None]:
        """Counts the enclosed work as in flight until it ends, however it ends."""
        self._count += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def wait(self, grace: float) -> bool:
        """True when everything in flight finished within `grace` seconds."""
        if self._idle.is_set():  # wait_for with no time left gives up even on a set event
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            return False
        return True

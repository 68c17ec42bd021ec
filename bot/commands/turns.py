"""The turn queue: how many commands run at once, and who goes next."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass

# Commands run at once; more wait their turn, in order. Platforms take requests faster than the
# database can serve them: past a couple at once, more in flight only slows every one of them,
# and the acknowledgements platforms wait for, which share the event loop (measured with
# `make bench`: the acknowledgement rate under a burst rises from 0.6x to 0.8x bare slack-bolt
# going from four to two). On SQLite, writers would otherwise queue in its busy handler, which
# is neither fair nor patient.
CONCURRENT_COMMANDS = 2
# On PostgreSQL a command spends most of its time waiting for the server's answers, not on this
# process's CPU, and the server takes many writers at once: more run at a time (within the
# connection pool's ten).
CONCURRENT_COMMANDS_SERVER = 8
# A turn is not held up by slow work for longer than this: when no running command has
# finished for this long (a model writing a digest, a platform slow to list a channel), the
# next ones go ahead anyway.
STALL_SECONDS = 1.0


@dataclass
class _Held:
    """Whether the command in this context holds its turn right now."""

    held: bool = True


class Turns:
    """At most `size` commands at once, first come first served, unless they stall: when no
    command has finished for `stall` seconds, everyone waiting goes ahead."""

    def __init__(self, size: int, stall: float) -> None:
        self._size = size
        self._stall = stall
        self._running = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._finished = time.monotonic()
        self._watch: asyncio.TimerHandle | None = None
        # Per queue, not per module: which turn (if any) the running task holds.
        self._current: ContextVar[_Held | None] = ContextVar(f"turn-{id(self)}", default=None)

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._running < self._size and not self._waiting:
            self._running += 1
        else:
            await self._wait()
        held = _Held()
        self._current.set(held)
        try:
            yield
        finally:
            self._finished = time.monotonic()
            if held.held:
                held.held = False
                self._release()

    @asynccontextmanager
    async def aside(self) -> AsyncIterator[None]:
        """Give the turn up while waiting on something that needs no work here (a commit), so
        the next command runs meanwhile; then take it back ahead of everyone waiting."""
        held = self._current.get()
        if held is None or not held.held:
            yield
            return
        held.held = False
        self._release()
        try:
            yield
        finally:
            if self._running < self._size and not self._waiting:
                self._running += 1
            else:
                await self._wait(first=True)  # cancelled here: the turn is not held
            held.held = True

    async def _wait(self, *, first: bool = False) -> None:
        waiter = asyncio.get_running_loop().create_future()
        if first:
            self._waiting.appendleft(waiter)
        else:
            self._waiting.append(waiter)
        self._arm()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # given a turn just as it was cancelled: pass it on
            else:
                self._waiting.remove(waiter)
            raise

    def _release(self) -> None:
        """The next one waiting takes over the turn, or it is free again. Turns given out past
        `size` during a stall are not passed on."""
        if self._running <= self._size:
            while self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._running -= 1

    def _arm(self) -> None:
        # One timer for the lot (not one per waiter): a burst queues thousands.
        if self._watch is None:
            self._watch = asyncio.get_running_loop().call_later(self._stall, self._check)

    def _check(self) -> None:
        self._watch = None
        if not self._waiting:
            return
        if time.monotonic() - self._finished >= self._stall:
            while self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.done():
                    self._running += 1
                    waiter.set_result(None)
        self._arm()

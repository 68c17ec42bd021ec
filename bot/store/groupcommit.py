"""Group commit: short writes from many concurrent commands, coalesced into one transaction.

Each command's write is a `Work`: a function of a session that only talks to the database (no
platform call, no sleep) and returns what the command needs to answer. Writes that arrive while
one transaction is being written, or within `window` seconds of the first, go into the next
transaction, up to `most` at a time. `run` returns only once the transaction holding the write
has committed, so a person is never told "saved" about a row that is not on disk.

A failure is reported to exactly the writes it affected: when a coalesced transaction fails
(one write raised, or the commit did), it is rolled back whole and each of its writes runs again
in a transaction of its own, so the one that fails fails alone and the others commit. That
needs no savepoints, which SQLite's Python driver handles badly. A write must therefore be safe
to run again after a rollback: it touches nothing but its session.

Up to `at_once` transactions are written at a time, each on a connection of its own. SQLite has
one writer, so one. On PostgreSQL a transaction's statements wait for the server's answers one
after another, and under a burst that waiting, not the CPU, held the writes back: four at once
took check-ins saved and answered from about 790 to 910 a second (`python -m bench --only ack`).
Two transactions at once that touch the same row serialise in the server, as any two do."""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

log = logging.getLogger(__name__)

T = TypeVar("T")
Work = Callable[[AsyncSession], Awaitable[T]]
Begin = Callable[[], AbstractAsyncContextManager[AsyncSession]]
Aside = Callable[[], AbstractAsyncContextManager[None]]

# A few milliseconds: long enough for a burst's writes to meet, short next to a person's wait.
WINDOW_SECONDS = 0.002
MOST = 64
# Transactions in flight at once on PostgreSQL (see above).
POSTGRES_AT_ONCE = 4


@dataclass
class _Write:
    work: Work[Any]
    done: asyncio.Future[Any]


class GroupCommit:
    """One writer per database handle; made by `Database`, started by the first write."""

    def __init__(
        self, begin: Begin, *, window: float = WINDOW_SECONDS, most: int = MOST, at_once: int = 1
    ) -> None:
        self._begin = begin
        self._at_once = at_once
        self._busy: set[asyncio.Task[None]] = set()
        self._window = window
        self._most = most
        self._queue: list[_Write] = []
        self._wake: asyncio.Event | None = None
        self._writer: asyncio.Task[None] | None = None
        self._closing = False
        self._aside: Aside = nullcontext
        self.transactions = 0  # committed coalesced transactions, for tests and the bench

    def wait_with(self, aside: Aside) -> None:
        """What a write waits for its commit inside: the command queue gives up the waiting
        command's turn with it, so that more writes join the transaction."""
        self._aside = aside

    async def run(self, work: Work[T]) -> T:
        """Run `work` in the next coalesced transaction; its result once that has committed.
        Its exception, or NotSaved when the database refused, if it failed on its own."""
        loop = asyncio.get_running_loop()
        write = _Write(work, loop.create_future())
        self._queue.append(write)
        if self._writer is None or self._writer.done():
            self._wake = asyncio.Event()
            # A context of its own: not the context of the command that happened to start it.
            self._writer = loop.create_task(
                self._write_loop(), name="group-commit", context=contextvars.Context()
            )
        assert self._wake is not None
        self._wake.set()
        # A command cancelled before its transaction began writes nothing.
        async with self._aside():
            result: T = await write.done
        return result

    async def close(self) -> None:
        """Commit what is queued, then stop the writer."""
        self._closing = True
        if self._writer is not None and self._wake is not None:
            self._wake.set()
            await self._writer
        self._writer = None
        self._closing = False

    async def _write_loop(self) -> None:
        assert self._wake is not None
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._queue:
                if len(self._queue) < self._most and self._window > 0:
                    await asyncio.sleep(self._window)  # let the burst's next writes join
                while len(self._busy) >= self._at_once:
                    _, self._busy = await asyncio.wait(
                        self._busy, return_when=asyncio.FIRST_COMPLETED
                    )
                batch, self._queue = self._queue[: self._most], self._queue[self._most :]
                self._busy.add(asyncio.get_running_loop().create_task(self._commit(batch)))
            if self._closing:
                if self._busy:
                    await asyncio.wait(self._busy)
                return

    async def _commit(self, batch: list[_Write]) -> None:
        live = [w for w in batch if not w.done.done()]
        if not live:
            return
        try:
            results = await self._together(live)
        except Exception as exc:
            if len(live) == 1:
                _settle(live[0], exc=exc)
                return
            log.info("a coalesced transaction of %d writes failed; each runs alone", len(live))
            for write in live:
                await self._commit([write])
            return
        self.transactions += 1
        for write, result in zip(live, results, strict=True):
            _settle(write, result=result)

    async def _together(self, batch: list[_Write]) -> list[Any]:
        async with self._begin() as session:
            return [await write.work(session) for write in batch]


def _settle(write: _Write, *, result: Any = None, exc: BaseException | None = None) -> None:
    if write.done.done():  # its command was cancelled meanwhile
        return
    if exc is not None:
        write.done.set_exception(exc)
    else:
        write.done.set_result(result)

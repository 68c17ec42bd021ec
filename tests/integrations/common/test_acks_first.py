from __future__ import annotations

import asyncio
import time

from integrations.common.acks_first import AcksFirst


async def arrivals(acks: AcksFirst, *, every: float, for_: float) -> float:
    """Requests arriving back to back for `for_` seconds; when the last one came."""
    stop = time.monotonic() + for_
    while time.monotonic() < stop:
        acks.arrived()
        await asyncio.sleep(every)
    acks.arrived()
    return time.monotonic()


async def entered(acks: AcksFirst) -> float:
    async with acks.turn():
        return time.monotonic()


async def test_work_waits_for_a_gap_in_arrivals() -> None:
    acks = AcksFirst(gap=0.3, longest=30)  # a gap far longer than a busy loop's hiccups
    began = time.monotonic()
    assert await entered(acks) - began < 0.1  # nothing arriving: at once
    burst = asyncio.create_task(arrivals(acks, every=0.01, for_=0.5))
    await asyncio.sleep(0.02)
    work = asyncio.create_task(entered(acks))
    last = await burst
    assert await work >= last + 0.3


async def test_work_waits_no_longer_than_its_longest() -> None:
    acks = AcksFirst(gap=0.1, longest=0.2)
    burst = asyncio.create_task(arrivals(acks, every=0.01, for_=1.0))
    await asyncio.sleep(0.02)
    began = time.monotonic()
    at = await entered(acks)
    assert not burst.done() and at - began < 0.9  # the burst goes on; the work did not wait
    await burst


async def test_only_so_many_pieces_of_work_run_at_once() -> None:
    acks = AcksFirst(gap=0.01, longest=30, at_once=2)
    running = most = 0
    release = asyncio.Event()

    async def work() -> None:
        nonlocal running, most
        async with acks.turn():
            running += 1
            most = max(most, running)
            await release.wait()
            running -= 1

    tasks = [asyncio.create_task(work()) for _ in range(5)]
    await asyncio.sleep(0.05)
    assert running == 2
    release.set()
    await asyncio.gather(*tasks)
    assert most == 2

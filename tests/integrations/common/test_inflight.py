from __future__ import annotations

import asyncio

from integrations.common.inflight import InFlight


async def test_wait_returns_when_the_work_in_flight_ends() -> None:
    inflight = InFlight()
    release = asyncio.Event()

    async def work() -> None:
        async with inflight.hold():
            await release.wait()

    task = asyncio.create_task(work())
    await asyncio.sleep(0)
    assert len(inflight) == 1
    waiting = asyncio.create_task(inflight.wait(60))
    await asyncio.sleep(0)
    assert not waiting.done()
    release.set()
    assert await waiting is True
    await task
    assert len(inflight) == 0


async def test_wait_gives_up_after_the_grace_and_failed_work_is_released() -> None:
    inflight = InFlight()
    assert await inflight.wait(0) is True  # nothing in flight
    async with inflight.hold():
        assert await inflight.wait(0) is False
    try:
        async with inflight.hold():
            raise RuntimeError("boom")
    except RuntimeError:
        pass
    assert len(inflight) == 0 and await inflight.wait(0) is True

from __future__ import annotations

import asyncio

import pytest

from integrations.common.budget import within


async def test_work_done_within_the_budget_comes_back_done() -> None:
    async def quick() -> int:
        return 7

    task = await within(quick(), 60)
    assert task.done() and task.result() == 7


async def test_work_past_the_budget_keeps_running_and_can_be_awaited() -> None:
    release = asyncio.Event()

    async def slow() -> str:
        await release.wait()
        return "late answer"

    task = await within(slow(), 0)
    assert not task.done()
    release.set()
    assert await task == "late answer"


async def test_a_failure_within_the_budget_is_kept_in_the_task() -> None:
    async def broken() -> None:
        raise LookupError("gone")

    task = await within(broken(), 60)
    assert task.done()
    with pytest.raises(LookupError):
        task.result()

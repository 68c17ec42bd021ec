"""Answering within a platform's acknowledgement window: Slack takes a modal's answer only in
its acknowledgement (3 s), Discord drops an interaction not answered within 3 s. The work starts
at once; if it finishes within the budget the answer goes in the acknowledgement, otherwise the
adapter acknowledges (closes the modal, shows "thinking…") and follows up when it is done."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def within(work: Coroutine[Any, Any, T], budget: float) -> asyncio.Task[T]:
    """Starts `work` and waits up to `budget` seconds for it. The task comes back done when it
    finished in time (its result or exception is ready), else still running: await it later."""
    task = asyncio.ensure_future(work)
    await asyncio.wait({task}, timeout=budget)
    return task

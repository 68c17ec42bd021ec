from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.domain import ChannelRef, Message, Platform
from bot.errors import DeliveryRetry
from bot.services import outbox
from bot.services.context import Deps
from bot.store.models import Delivery
from tests.support.adapter import RecordingAdapter
from tests.support.clock import Clock


def dm(user: str) -> ChannelRef:
    return ChannelRef(Platform.CONSOLE, "console", user, dm_user=user)


async def queue(deps: Deps, key: str, user: str, text: str = "hello") -> bool:
    async with deps.db.begin() as s:
        return await outbox.enqueue(
            s, key=key, to=dm(user), message=Message(text), now=deps.clock()
        )


async def rows(deps: Deps) -> dict[str, Delivery]:
    async with deps.db.begin() as s:
        return {d.key: d for d in (await s.execute(select(Delivery))).scalars()}


@pytest.fixture
def adapter(deps: Deps) -> RecordingAdapter:
    recording = RecordingAdapter()
    deps.adapters.add(recording)
    return recording


async def test_enqueue_twice_sends_once_and_drain_twice_sends_once(
    deps: Deps, adapter: RecordingAdapter
) -> None:
    assert await queue(deps, "k:1", "U1")
    assert not await queue(deps, "k:1", "U1")
    first = await outbox.drain(deps)
    second = await outbox.drain(deps)
    assert (first.sent, second.sent) == (1, 0)
    assert [s.key for s in adapter.sent] == ["k:1"]
    assert adapter.sent[0].to == dm("U1")
    row = (await rows(deps))["k:1"]
    assert row.state == "sent"
    assert row.platform_message_id == "m1"
    assert row.sent_at == deps.clock()
    assert await outbox.pending_count(deps) == 0


async def test_channel_post_goes_to_the_channel(deps: Deps, adapter: RecordingAdapter) -> None:
    channel = ChannelRef(Platform.CONSOLE, "console", "learning")
    async with deps.db.begin() as s:
        await outbox.enqueue(s, key="post", to=channel, message=Message("hi"))
    await outbox.drain(deps)
    assert adapter.sent[0].to == channel
    assert not adapter.sent[0].to.is_dm


async def test_rows_stamped_by_another_clock_are_due_at_once(
    deps: Deps, adapter: RecordingAdapter, clock: Clock
) -> None:
    clock.advance(days=-400)  # the row below is stamped by the database, far "later"
    async with deps.db.begin() as s:
        await outbox.enqueue(s, key="k", to=dm("U1"), message=Message("hi"))
    assert (await outbox.drain(deps)).sent == 1


async def test_transient_failures_are_retried(deps: Deps, adapter: RecordingAdapter) -> None:
    adapter.fail_transiently["U1"] = 2
    await queue(deps, "k:1", "U1")
    assert (await outbox.drain(deps)).retried == 1
    row = (await rows(deps))["k:1"]
    assert (row.state, row.attempts, row.last_error) == ("pending", 1, "rate_limited")
    assert (await outbox.drain(deps)).retried == 1
    assert (await outbox.drain(deps)).sent == 1
    row = (await rows(deps))["k:1"]
    assert (row.state, row.attempts) == ("sent", 2)
    assert len(adapter.sent) == 1


class Flaky(RecordingAdapter):
    """Always transient: with or without a Retry-After."""

    after: float | None = None
    calls: int = 0

    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        self.calls += 1
        raise DeliveryRetry("server_error", after=self.after)


async def test_backoff_grows_and_is_capped(deps: Deps, clock: Clock) -> None:
    flaky = Flaky()
    deps.adapters.add(flaky)
    await queue(deps, "k", "U1")
    start = clock()
    await outbox.drain(deps)
    assert (await rows(deps))["k"].next_attempt_at == start + timedelta(seconds=5)
    assert (await outbox.drain(deps)).retried == 0  # not due yet
    clock.advance(seconds=5)
    await outbox.drain(deps)
    assert (await rows(deps))["k"].next_attempt_at == clock() + timedelta(seconds=10)
    flaky.after = 7200  # a huge Retry-After is capped at 15 minutes
    clock.advance(seconds=10)
    await outbox.drain(deps)
    assert (await rows(deps))["k"].next_attempt_at == clock() + timedelta(minutes=15)
    assert flaky.calls == 3


async def test_gives_up_after_eight_attempts(deps: Deps) -> None:
    flaky = Flaky()
    flaky.after = 0.0
    deps.adapters.add(flaky)
    await queue(deps, "k", "U1")
    results = [await outbox.drain(deps) for _ in range(10)]
    assert flaky.calls == outbox.MAX_ATTEMPTS
    assert results[outbox.MAX_ATTEMPTS - 1].failed == 1
    row = (await rows(deps))["k"]
    assert (row.state, row.attempts, row.last_error) == ("failed", 8, "server_error")


async def test_permanent_failure_is_recorded_and_not_retried(
    deps: Deps, adapter: RecordingAdapter, clock: Clock
) -> None:
    adapter.fail_permanently.add("U2")
    await queue(deps, "k:1", "U1")
    await queue(deps, "k:2", "U2")
    result = await outbox.drain(deps)
    assert (result.sent, result.failed) == (1, 1)
    clock.advance(hours=1)
    assert await outbox.drain(deps) == outbox.DrainResult()
    row = (await rows(deps))["k:2"]
    assert (row.state, row.last_error) == ("failed", "cannot_dm_user")


async def test_no_adapter_leaves_rows_pending(deps: Deps, adapter: RecordingAdapter) -> None:
    async with deps.db.begin() as s:
        slack = ChannelRef(Platform.SLACK, "T1", "U9", dm_user="U9")
        await outbox.enqueue(s, key="slack", to=slack, message=Message("hi"))
    await queue(deps, "console", "U1")
    result = await outbox.drain(deps)
    assert result.sent == 1
    assert (await rows(deps))["slack"].state == "pending"
    assert await outbox.pending_count(deps) == 1


async def test_an_expired_lease_is_claimed_again(
    deps: Deps, adapter: RecordingAdapter, clock: Clock
) -> None:
    await queue(deps, "k", "U1")
    async with deps.db.begin() as s:  # a replica claimed it and died mid-send
        await s.execute(
            update(Delivery).values(state="sending", next_attempt_at=clock() + outbox.LEASE)
        )
    assert (await outbox.drain(deps)).sent == 0
    clock.advance(seconds=61)
    assert (await outbox.drain(deps)).sent == 1
    assert (await rows(deps))["k"].attempts == 1  # the lost attempt counts


class Slow(RecordingAdapter):
    """Every send takes 30 seconds of the test clock."""

    clock: Clock | None = None

    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        assert self.clock is not None
        self.clock.advance(seconds=30)
        return await super().send(to, message, key=key)


async def test_no_send_starts_near_the_end_of_the_lease(deps: Deps, clock: Clock) -> None:
    slow = Slow()
    slow.clock = clock
    deps.adapters.add(slow)
    for n in range(3):
        await queue(deps, f"k:{n}", f"U{n}")
    assert (await outbox.drain(deps)).sent == 2
    assert (await rows(deps))["k:2"].state == "pending"
    assert (await outbox.drain(deps)).sent == 1
    assert sorted(s.key for s in slow.sent) == ["k:0", "k:1", "k:2"]


async def test_message_text_is_never_logged(
    deps: Deps, adapter: RecordingAdapter, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot")
    adapter.fail_permanently.add("U1")
    adapter.fail_transiently["U2"] = 1
    await queue(deps, "k:1", "U1", text="CANARY-secret-text")
    await queue(deps, "k:2", "U2", text="CANARY-secret-text")
    await outbox.drain(deps)
    ours = "\n".join(r.getMessage() for r in caplog.records if r.name.startswith("bot"))
    assert "k:1" in ours
    assert "CANARY" not in ours


class Sleepy(RecordingAdapter):
    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        await asyncio.sleep(0.001)  # let the other drain run meanwhile
        return await super().send(to, message, key=key)


async def test_concurrent_drains_never_send_a_row_twice(deps: Deps) -> None:
    sleepy = Sleepy()
    deps.adapters.add(sleepy)
    for n in range(40):
        await queue(deps, f"k:{n}", f"U{n}")
    total = 0
    for _ in range(10):
        a, b = await asyncio.gather(outbox.drain(deps, limit=7), outbox.drain(deps, limit=7))
        total += a.sent + b.sent
        if a.sent + b.sent == 0:
            break
    keys = [s.key for s in sleepy.sent]
    assert total == 40
    assert sorted(keys) == sorted(set(keys))
    assert len(keys) == 40

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
from tests.support.chat import dm
from tests.support.clock import Clock


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


async def test_a_row_queued_to_wait_is_sent_only_from_its_time(
    deps: Deps, adapter: RecordingAdapter, clock: Clock
) -> None:
    at = clock() + timedelta(hours=5)
    async with deps.db.begin() as s:
        await outbox.enqueue(
            s, key="later", to=dm("U1"), message=Message("hi"), now=clock(), not_before=at
        )
        await outbox.enqueue(s, key="now", to=dm("U2"), message=Message("hi"), now=clock())
    assert (await outbox.drain(deps)).sent == 1
    clock.advance(hours=5, seconds=-1)
    assert (await outbox.drain(deps)).sent == 0
    clock.advance(seconds=1)
    assert (await outbox.drain(deps)).sent == 1
    assert [s.key for s in adapter.sent] == ["now", "later"]


async def test_a_stopping_drain_hands_back_what_it_has_not_started(
    deps: Deps, adapter: RecordingAdapter, clock: Clock
) -> None:
    for n in range(4):
        await queue(deps, f"k:{n}", f"U{n}")
    stop_after_one = lambda: len(adapter.sent) >= 1  # noqa: E731
    result = await outbox.drain(deps, stopping=stop_after_one)
    assert result.sent == 1
    states = {k: (r.state, r.attempts) for k, r in (await rows(deps)).items()}
    assert states == {"k:0": ("sent", 0), **{f"k:{n}": ("pending", 0) for n in (1, 2, 3)}}
    assert (await outbox.drain(deps)).sent == 3  # due at once, no lease to wait out


class Hanging(RecordingAdapter):
    started: asyncio.Event | None = None

    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        assert self.started is not None
        self.started.set()
        await asyncio.sleep(3600)
        raise AssertionError("not reached")


async def test_a_cancelled_drain_keeps_the_lease_only_on_the_send_under_way(
    deps: Deps, clock: Clock
) -> None:
    hanging = Hanging()
    hanging.started = asyncio.Event()
    deps.adapters.add(hanging)
    for n in range(3):
        await queue(deps, f"k:{n}", f"U{n}")
    task = asyncio.create_task(outbox.drain(deps))
    await hanging.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    states = {k: r.state for k, r in (await rows(deps)).items()}
    # The first may have been posted: it waits for its lease. The others were never tried.
    assert states == {"k:0": "sending", "k:1": "pending", "k:2": "pending"}


class Remembers(RecordingAdapter):
    """A platform that can say whether it has a message with an outbox key."""

    lookups: list[str] | None = None
    broken: bool = False

    async def find_sent(self, to: ChannelRef, key: str) -> str | None:
        assert self.lookups is not None
        self.lookups.append(key)
        if self.broken:
            raise DeliveryRetry("lookup failed")
        return next((f"m{n}" for n, s in enumerate(self.sent, 1) if s.key == key), None)


async def test_a_row_tried_before_is_looked_up_before_it_is_sent_again(
    deps: Deps, clock: Clock
) -> None:
    platform = Remembers()
    platform.lookups = []
    deps.adapters.add(platform)
    await queue(deps, "posted", "U1")
    await queue(deps, "lost", "U2")
    await queue(deps, "fresh", "U3")
    await outbox.drain(deps)
    assert platform.lookups == []  # never tried: no lookup
    async with deps.db.begin() as s:  # "posted" went out but its sender died before saying so
        await s.execute(
            update(Delivery)
            .where(Delivery.key.in_(["posted", "lost"]))
            .values(state="sending", next_attempt_at=clock(), platform_message_id=None)
        )
        platform.sent = [m for m in platform.sent if m.key != "lost"]  # "lost" never arrived
    seen: list[tuple[str, str]] = []
    result = await outbox.drain(deps, observe=lambda p, outcome: seen.append((p, outcome)))
    assert result.sent == 2
    assert sorted(platform.lookups) == ["lost", "posted"]
    assert sorted(seen) == [("console", "found"), ("console", "sent")]
    assert [s.key for s in platform.sent].count("posted") == 1
    assert [s.key for s in platform.sent].count("lost") == 1
    assert (await rows(deps))["posted"].platform_message_id == "m1"


async def test_a_failed_lookup_is_retried_later_not_sent_blind(deps: Deps, clock: Clock) -> None:
    platform = Remembers()
    platform.lookups = []
    platform.broken = True
    deps.adapters.add(platform)
    await queue(deps, "k", "U1")
    async with deps.db.begin() as s:
        await s.execute(update(Delivery).values(state="sending", next_attempt_at=clock()))
    assert (await outbox.drain(deps)).retried == 1
    assert platform.sent == []
    row = (await rows(deps))["k"]
    assert (row.state, row.last_error) == ("pending", "lookup failed")


async def test_the_lease_follows_the_setting(deps: Deps, clock: Clock) -> None:
    from bot.config import OutboxSettings

    deps.settings = deps.settings.model_copy(update={"outbox": OutboxSettings(lease_seconds=6)})
    assert outbox.lease_of(deps) == timedelta(seconds=6)
    hanging = Hanging()
    hanging.started = asyncio.Event()
    deps.adapters.add(hanging)
    await queue(deps, "k", "U1")
    task = asyncio.create_task(outbox.drain(deps))
    await hanging.started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    row = (await rows(deps))["k"]
    assert (row.state, row.next_attempt_at) == ("sending", clock() + timedelta(seconds=6))

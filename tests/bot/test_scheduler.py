from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.domain import ChannelRef, Platform
from bot.domain.cron import last_fire, next_after
from bot.domain.cron import parse as cron
from bot.scheduler import Scheduler
from bot.services import groups
from bot.services.context import Deps
from bot.store.models import Digest, Group
from tests.support.adapter import RecordingAdapter
from tests.support.clock import Clock

FRIDAY_4PM = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)


def fires(expression: str, timezone: str = "UTC", count: int = 3) -> list[str]:
    trigger = cron(expression, timezone)
    out, now = [], datetime(2026, 11, 23, tzinfo=UTC)  # a Monday
    for _ in range(count):
        moment = next_after(trigger, now)
        assert moment is not None
        out.append(moment.astimezone(UTC).strftime("%a %H:%M"))
        now = moment
    return out


def test_cron_weekdays_count_from_sunday_like_cron() -> None:
    assert fires("0 16 * * 5") == ["Fri 16:00"] * 3
    assert fires("0 16 * * fri") == ["Fri 16:00"] * 3
    assert fires("0 9 * * 0", count=1) == fires("0 9 * * 7", count=1) == ["Sun 09:00"]
    weekdays = ["Mon 09:00", "Tue 09:00", "Wed 09:00", "Thu 09:00", "Fri 09:00"]
    assert fires("0 9 * * 1-5", count=5) == weekdays
    assert fires("0 9 * * 5-7", count=3) == ["Fri 09:00", "Sat 09:00", "Sun 09:00"]
    assert fires("0 9 * * */2", count=4) == ["Tue 09:00", "Thu 09:00", "Sat 09:00", "Sun 09:00"]
    assert fires("30 8 * * mon-fri", "Europe/Berlin", count=1) == ["Mon 07:30"]
    for bad in ("0 9 * *", "0 25 * * *", "0 9 * * 8", "0 9 * * 5-2", "0 9 * * funday"):
        with pytest.raises(ValueError):
            cron(bad, "UTC")


def test_last_fire_looks_back_within_the_grace_only() -> None:
    trigger = cron("0 16 * * fri", "UTC")
    hour = timedelta(hours=1)
    assert last_fire(trigger, FRIDAY_4PM + timedelta(minutes=10), hour) == FRIDAY_4PM
    assert last_fire(trigger, FRIDAY_4PM, hour) == FRIDAY_4PM
    assert last_fire(trigger, FRIDAY_4PM + 2 * hour, hour) is None
    assert last_fire(trigger, FRIDAY_4PM - timedelta(seconds=1), hour) is None
    every_minute = cron("* * * * *", "UTC")
    assert last_fire(every_minute, FRIDAY_4PM + timedelta(seconds=90), hour) == (
        FRIDAY_4PM + timedelta(minutes=1)
    )


async def make_group(deps: Deps, channel: str = "learning", **values: object) -> int:
    async with deps.db.begin() as s:
        group = await groups.ensure_group(
            s, ChannelRef(Platform.CONSOLE, "console", channel), name=channel, timezone="UTC"
        )
        for key, value in values.items():
            setattr(group, key, value)
        return group.id


@pytest.fixture
async def scheduler(deps: Deps) -> AsyncIterator[Scheduler]:
    deps.adapters.add(RecordingAdapter())
    made = Scheduler(deps)
    yield made
    await made.stop(grace=1)


def next_runs(scheduler: Scheduler) -> dict[str, datetime | None]:
    return {job.id: job.next_run for job in scheduler.jobs()}


async def test_jobs_have_fixed_ids_one_digest_per_group_and_rounds_where_scheduled(
    deps: Deps, clock: Clock, scheduler: Scheduler
) -> None:
    a = await make_group(deps, "a", digest_schedule="0 9 * * mon", timezone="Asia/Tokyo")
    b = await make_group(deps, "b", round_schedule="0 9 * * mon for 2d")
    await scheduler.start(paused=True)
    runs = next_runs(scheduler)
    housekeeping = ["rounds-close", "rounds-remind", "alarms", "schedules", "exports-expire"]
    housekeeping.append("events-expire")
    assert sorted(runs) == sorted([*housekeeping, f"digest:{a}", f"digest:{b}", f"round:{b}"])
    # Group a: Mondays 09:00 in Tokyo; group b: the configured default, Fridays 16:00 UTC.
    assert runs[f"digest:{a}"] == datetime(2026, 11, 30, 0, 0, tzinfo=UTC)
    assert runs[f"digest:{b}"] == FRIDAY_4PM
    # A round for 09:00 Monday in everyone's timezone starts where Monday 09:00 comes first.
    assert runs[f"round:{b}"] == datetime(2026, 11, 29, 19, 0, tzinfo=UTC)
    assert runs["rounds-close"] == clock()  # housekeeping runs at once, then every tick


async def test_a_run_missed_by_a_restart_runs_once_on_start(
    deps: Deps, clock: Clock, scheduler: Scheduler
) -> None:
    group_id = await make_group(deps)
    clock.now = FRIDAY_4PM + timedelta(minutes=20)  # down at 16:00, back at 16:20
    await scheduler.start(paused=True)
    assert next_runs(scheduler)[f"digest:{group_id}"] == FRIDAY_4PM
    ran = await scheduler.run_due()
    assert f"digest:{group_id}" in ran
    async with deps.db.begin() as s:
        posted = (await s.execute(select(Digest.week, Digest.state))).all()
    assert ("2026-W48", "posted") in posted
    assert next_runs(scheduler)[f"digest:{group_id}"] == FRIDAY_4PM + timedelta(days=7)
    assert await scheduler.run_due() == []


async def test_a_run_missed_by_more_than_the_grace_is_skipped(
    deps: Deps, clock: Clock, scheduler: Scheduler
) -> None:
    group_id = await make_group(deps)
    clock.now = FRIDAY_4PM + timedelta(hours=2)
    await scheduler.start(paused=True)
    assert next_runs(scheduler)[f"digest:{group_id}"] == FRIDAY_4PM + timedelta(days=7)


async def test_resync_picks_up_changed_new_and_removed_schedules(
    deps: Deps, clock: Clock, scheduler: Scheduler
) -> None:
    first = await make_group(deps, "a", round_schedule="0 9 * * mon")
    await scheduler.start(paused=True)
    before = next_runs(scheduler)
    second = await make_group(deps, "b")
    async with deps.db.begin() as s:
        group = await s.get_one(Group, first)
        group.digest_schedule = "0 8 * * tue"
        group.round_schedule = None
    await scheduler.resync()
    after = next_runs(scheduler)
    assert f"round:{first}" not in after
    assert after[f"digest:{first}"] == datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    assert after[f"digest:{second}"] == FRIDAY_4PM
    assert after["alarms"] == before["alarms"]  # untouched jobs keep their next run
    async with deps.db.begin() as s:
        await s.delete(await s.get_one(Group, second))
    await scheduler.resync()
    assert f"digest:{second}" not in next_runs(scheduler)


async def test_an_unchanged_schedule_keeps_its_next_run(
    deps: Deps, clock: Clock, scheduler: Scheduler
) -> None:
    group_id = await make_group(deps)
    clock.now = FRIDAY_4PM + timedelta(minutes=5)
    await scheduler.start(paused=True)
    assert next_runs(scheduler)[f"digest:{group_id}"] == FRIDAY_4PM  # the catch-up is due
    await scheduler.resync()  # a resync must not drop it by recomputing from now
    assert next_runs(scheduler)[f"digest:{group_id}"] == FRIDAY_4PM


async def test_a_failing_job_is_reported_and_stops_no_other(deps: Deps, clock: Clock) -> None:
    seen: list[tuple[str, str]] = []
    scheduler = Scheduler(deps, observe=lambda job, result: seen.append((job, result)))
    ran: list[datetime] = []

    async def broken(at: datetime) -> None:
        raise RuntimeError("boom")

    async def fine(at: datetime) -> None:
        ran.append(at)

    await scheduler.start(paused=True)
    scheduler.add("broken", cron("0 9 * * *", "UTC"), broken, catch_up=True)
    scheduler.add("fine", cron("0 9 * * *", "UTC"), fine, catch_up=True)
    try:
        done = await scheduler.run_due()
    finally:
        await scheduler.stop(grace=1)
    assert {"broken", "fine"} <= set(done)
    assert ("broken", "error") in seen
    assert ("fine", "ok") in seen
    assert ran == [clock()]  # the job hears the fire time it stands for


async def test_stop_lets_a_running_job_finish(deps: Deps) -> None:
    scheduler = Scheduler(deps)
    finished = asyncio.Event()
    started = asyncio.Event()

    async def slow(at: datetime) -> None:
        started.set()
        await asyncio.sleep(0.2)
        finished.set()

    await scheduler.start(paused=True)
    scheduler.add("slow", cron("* * * * *", "UTC"), slow)
    runner = asyncio.create_task(scheduler.run_due(datetime.now(UTC) + timedelta(minutes=2)))
    await started.wait()
    await scheduler.stop(grace=5)
    assert finished.is_set()
    await runner


async def test_stop_waits_for_the_job_not_for_the_loop_that_ran_it(deps: Deps) -> None:
    scheduler = Scheduler(deps)
    started = asyncio.Event()

    async def quick(at: datetime) -> None:
        started.set()
        await asyncio.sleep(0.05)

    await scheduler.start(paused=True)
    scheduler.add("quick", cron("* * * * *", "UTC"), quick)

    async def driver() -> None:  # a manual clock's driver loop runs jobs inside itself
        while True:
            await scheduler.run_due(datetime.now(UTC) + timedelta(minutes=2))
            await asyncio.sleep(0.01)

    loop = asyncio.create_task(driver())
    await started.wait()
    began = asyncio.get_running_loop().time()
    await scheduler.stop(grace=5)
    assert asyncio.get_running_loop().time() - began < 1
    # Finish cancelling the driver while the database is still open: a job cancelled in the
    # middle of a query cleans up its connection, and that needs the engine.
    loop.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await loop

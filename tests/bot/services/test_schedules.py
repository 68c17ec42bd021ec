from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.domain import MemberInfo
from bot.errors import UserError
from bot.services import groups, outbox, schedules
from bot.services.context import Deps
from bot.store.models import Delivery, Digest, Group, Member, Round, RoundRecipient
from tests.support.adapter import RecordingAdapter
from tests.support.chat import CHANNEL, channel_with
from tests.support.clock import Clock

PEOPLE = [
    MemberInfo("tokyo", "Tomo", "Asia/Tokyo"),
    MemberInfo("london", "Lee", "Europe/London"),
    MemberInfo("newyork", "Nia", "America/New_York"),
]
# "0 9 * * mon" fires first where it is earliest: Monday 09:00 at UTC+14 is Sunday 19:00 UTC.
FIRED = datetime(2026, 11, 29, 19, 0, tzinfo=UTC)
NINE_AM = {
    "tokyo": datetime(2026, 11, 30, 0, 0, tzinfo=UTC),
    "london": datetime(2026, 11, 30, 9, 0, tzinfo=UTC),
    "newyork": datetime(2026, 11, 30, 14, 0, tzinfo=UTC),
}


@pytest.fixture
def adapter(deps: Deps) -> RecordingAdapter:
    return channel_with(deps, PEOPLE)


async def scheduled_group(deps: Deps, schedule: str = "0 9 * * mon for 3d") -> int:
    async with deps.db.begin() as s:
        group = await groups.ensure_group(s, CHANNEL, name="learning", timezone="UTC")
        group.round_schedule = schedule
        group.round_schedule_template = "weekly-reflection"
        return group.id


async def drain(deps: Deps) -> None:
    while (await outbox.drain(deps)).sent:
        pass


def test_round_schedule_text_round_trips() -> None:
    assert schedules.split_round_schedule("0 9 * * mon for 3d") == ("0 9 * * mon", "3d")
    assert schedules.split_round_schedule("0 9 * * mon") == ("0 9 * * mon", None)
    assert schedules.join_round_schedule("0 9 * * mon", "3d") == "0 9 * * mon for 3d"
    assert schedules.join_round_schedule("0 9 * * mon", None) == "0 9 * * mon"
    assert schedules.slot_of(FIRED) == datetime(2026, 11, 30, 9, 0)


async def test_each_member_is_asked_at_nine_in_their_own_timezone(
    deps: Deps, clock: Clock, adapter: RecordingAdapter
) -> None:
    group_id = await scheduled_group(deps)
    clock.now = FIRED
    started = await schedules.open_scheduled_rounds(deps, group_id, FIRED)
    assert [s.recipients for s in started] == [3]
    round_ = started[0].round
    assert round_.schedule_slot is not None
    assert round_.schedule_slot.startswith("2026-11-30T09:00/")
    # Open three days after the last member (New York) was asked.
    assert round_.closes_at == NINE_AM["newyork"] + timedelta(days=3)

    got: dict[str, datetime] = {}
    moments = sorted({*NINE_AM.values(), *(t - timedelta(minutes=1) for t in NINE_AM.values())})
    for moment in moments:
        clock.now = moment
        await drain(deps)
        for sent in adapter.sent:
            assert sent.to.dm_user is not None
            got.setdefault(sent.to.dm_user, moment)
    assert got == NINE_AM
    assert len(adapter.sent) == 3
    # The prompt says when the round closes on the reader's own clock.
    tokyo = adapter.dms_to("tokyo")[0].message.text
    assert "Thu 03 Dec 23:00 (Asia/Tokyo)" in tokyo


async def test_a_repeated_or_concurrent_run_opens_the_slot_once(
    deps: Deps, clock: Clock, adapter: RecordingAdapter
) -> None:
    group_id = await scheduled_group(deps)
    clock.now = FIRED
    first, second = await asyncio.gather(
        schedules.open_scheduled_rounds(deps, group_id, FIRED),
        schedules.open_scheduled_rounds(deps, group_id, FIRED + timedelta(seconds=30)),
    )
    again = await schedules.open_scheduled_rounds(deps, group_id, FIRED)
    assert len(first) + len(second) == 1
    assert again == []
    async with deps.db.begin() as s:
        assert await s.scalar(select(func.count()).select_from(Round)) == 1
        assert await s.scalar(select(func.count()).select_from(Delivery)) == 3
    # The next week's fire is a new slot.
    next_week = await schedules.open_scheduled_rounds(deps, group_id, FIRED + timedelta(days=7))
    assert len(next_week) == 1


async def test_members_away_that_day_are_not_asked(
    deps: Deps, clock: Clock, adapter: RecordingAdapter
) -> None:
    group_id = await scheduled_group(deps)
    clock.now = FIRED
    await schedules.open_scheduled_rounds(deps, group_id, FIRED - timedelta(days=7))
    async with deps.db.begin() as s:
        lee = (await s.execute(select(Member).where(Member.user_id == "london"))).scalar_one()
        lee.away_until = date(2026, 11, 30)  # away on Monday, back on Tuesday
        tomo = (await s.execute(select(Member).where(Member.user_id == "tokyo"))).scalar_one()
        tomo.away_until = date(2026, 11, 29)  # back by Monday
    started = await schedules.open_scheduled_rounds(deps, group_id, FIRED)
    assert (started[0].recipients, started[0].skipped_away) == (2, 1)
    async with deps.db.begin() as s:
        asked = set(
            (
                await s.execute(
                    select(Member.user_id)
                    .join(RoundRecipient, RoundRecipient.member_id == Member.id)
                    .where(RoundRecipient.round_id == started[0].round.id)
                )
            ).scalars()
        )
    assert asked == {"tokyo", "newyork"}


async def test_no_schedule_no_adapter_or_nobody_there_opens_nothing(
    deps: Deps, clock: Clock
) -> None:
    group_id = await scheduled_group(deps)
    clock.now = FIRED
    assert await schedules.open_scheduled_rounds(deps, group_id, FIRED) == []  # no adapter
    deps.adapters.add(RecordingAdapter(members={"learning": []}))
    assert await schedules.open_scheduled_rounds(deps, group_id, FIRED) == []  # nobody
    async with deps.db.begin() as s:
        (await s.get_one(Group, group_id)).round_schedule = None
    assert await schedules.open_scheduled_rounds(deps, group_id, FIRED) == []
    assert await schedules.open_scheduled_rounds(deps, 999, FIRED) == []


async def test_a_scheduled_digest_is_published_once_for_the_week_it_fired_in(
    deps: Deps, clock: Clock, adapter: RecordingAdapter
) -> None:
    async with deps.db.begin() as s:
        group = await groups.ensure_group(s, CHANNEL, name="learning", timezone="Europe/London")
        group_id = group.id
    fired = datetime(2026, 11, 29, 23, 30, tzinfo=UTC)  # Sunday night: still week 48
    clock.now = fired + timedelta(hours=1)  # run late (a catch-up): Monday, week 49
    first = await schedules.publish_digest(deps, group_id, fired)
    second = await schedules.publish_digest(deps, group_id, fired)
    assert first is not None and second is not None
    assert first.week == second.week == "2026-W48"
    await drain(deps)
    async with deps.db.begin() as s:
        rows = list((await s.execute(select(Digest.variant, Digest.state))).all())
    assert sorted(rows) == [("group", "posted"), ("leader", "posted")]
    assert [s.to for s in adapter.sent] == [CHANNEL]
    assert await schedules.publish_digest(deps, 999, fired) is None


def test_timezones_are_checked_and_case_corrected() -> None:
    assert schedules.check_timezone("Europe/London") == "Europe/London"
    assert schedules.check_timezone("america/new_york") == "America/New_York"
    with pytest.raises(UserError, match="is not a timezone"):
        schedules.check_timezone("Mars/Olympus")


def test_away_dates() -> None:
    today = date(2026, 11, 26)
    assert schedules.away_until("2026-12-24", today) == date(2026, 12, 24)
    assert schedules.away_until("2w", today) == date(2026, 12, 10)
    assert schedules.away_until("2026-11-26", today) == today
    with pytest.raises(UserError, match="already passed"):
        schedules.away_until("2026-11-25", today)
    with pytest.raises(UserError, match="at most a year"):
        schedules.away_until("2028-01-01", today)
    with pytest.raises(UserError, match="is not a date"):
        schedules.away_until("next tuesday", today)


async def test_when_the_platform_cannot_list_members_the_last_rounds_audience_is_asked(
    deps: Deps, clock: Clock, adapter: RecordingAdapter
) -> None:
    group_id = await scheduled_group(deps)
    clock.now = FIRED
    await schedules.open_scheduled_rounds(deps, group_id, FIRED - timedelta(days=7))
    adapter.members["learning"] = []  # e.g. a Discord server another shard's process runs
    started = await schedules.open_scheduled_rounds(deps, group_id, FIRED)
    assert [s.recipients for s in started] == [3]


async def test_a_digest_race_ends_in_one_digest_and_one_post(
    deps: Deps, clock: Clock, adapter: RecordingAdapter
) -> None:
    async with deps.db.begin() as s:
        group = await groups.ensure_group(s, CHANNEL, name="learning", timezone="UTC")
        group_id = group.id
    clock.now = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
    await asyncio.gather(*(schedules.publish_digest(deps, group_id, clock()) for _ in range(3)))
    await drain(deps)
    async with deps.db.begin() as s:
        count = await s.scalar(select(func.count()).select_from(Digest))
    assert count == 2  # the group digest and the leader digest, once each
    assert len(adapter.sent) == 1

"""A group's own reminders (`round reminders 48 4`), run by the scheduler on its clock, for
members in three timezones."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from bot.commands import all_specs
from bot.commands.dispatch import Dispatcher
from bot.domain import MemberInfo, Role
from bot.scheduler import Scheduler
from bot.services import outbox
from bot.services.context import Deps
from bot.services.rounds.reminders import member_due
from bot.store.models import Delivery, Member
from tests.support.adapter import RecordingAdapter
from tests.support.chat import actor, channel_with, dm, said, say
from tests.support.clock import Clock

FRAN = actor("F1", "Fran", Role.FACILITATOR, timezone="UTC")
LONDON = actor("U1", "Ada", timezone="Europe/London")
NEW_YORK = actor("U2", "Bo", timezone="America/New_York")
TOKYO = actor("U3", "Cy", timezone="Asia/Tokyo")
PEOPLE = [MemberInfo(a.user_id, a.display_name, a.timezone) for a in (LONDON, NEW_YORK, TOKYO)]
# The round opens Mon 23 Nov 09:00 UTC for 3 days: it closes Thu 26 Nov 09:00 UTC.
CLOSE = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


@pytest.fixture
def adapter(deps: Deps) -> RecordingAdapter:
    return channel_with(deps, PEOPLE)


@pytest.fixture
def bot(deps: Deps) -> Dispatcher:
    return Dispatcher(deps, all_specs())


@pytest.fixture
async def scheduler(deps: Deps, adapter: RecordingAdapter) -> AsyncIterator[Scheduler]:
    made = Scheduler(deps)
    await made.start(paused=True)
    yield made
    await made.stop(grace=1)


async def reminded(deps: Deps) -> dict[str, set[str]]:
    """Reminder keys' hours -> the user ids reminded."""
    async with deps.db.begin() as session:
        rows = await session.execute(
            select(Delivery.key, Member.user_id)
            .join(Member, Member.id == Delivery.member_id)
            .where(Delivery.key.contains(":autoremind:"))
        )
        out: dict[str, set[str]] = {}
        for key, user in rows.all():
            out.setdefault(key.split(":")[3], set()).add(user)
    return out


async def at(scheduler: Scheduler, clock: Clock, moment: datetime) -> None:
    clock.now = moment
    await scheduler.run_due()


async def test_reminders_come_at_the_chosen_hours_on_each_members_clock(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter, clock: Clock, scheduler: Scheduler
) -> None:
    assert "one reminder 12 hours before" in await said(bot, LONDON, "round reminders")
    refused = await said(bot, LONDON, "round reminders 4")
    assert refused.startswith("Only facilitators can change the reminders")
    reply = await said(bot, FRAN, "round reminders 48 4")
    assert "a reminder 48 and 4 hours before a round closes" in reply
    assert "a reminder 48 and 4 hours" in await said(bot, LONDON, "round reminders")
    await say(bot, FRAN, "round start for 3d")

    # 48 hours before: Tue 09:00 UTC. In New York that is 04:00, in the night: Bo is reminded
    # at 20:00 the evening before (Tue 01:00 UTC); London (09:00) and Tokyo (18:00) at 09:00.
    await at(scheduler, clock, datetime(2026, 11, 24, 0, 59, tzinfo=UTC))
    assert await reminded(deps) == {}
    await at(scheduler, clock, datetime(2026, 11, 24, 1, 0, tzinfo=UTC))
    assert await reminded(deps) == {"48h": {"U2"}}
    await at(scheduler, clock, datetime(2026, 11, 24, 8, 59, tzinfo=UTC))
    assert await reminded(deps) == {"48h": {"U2"}}
    await at(scheduler, clock, datetime(2026, 11, 24, 9, 0, tzinfo=UTC))
    assert await reminded(deps) == {"48h": {"U1", "U2", "U3", "F1"}}

    # Tokyo answers; London goes away (on London's date) until Friday.
    await say(bot, TOKYO, "answer 1", dm(TOKYO), fields={"tried": "a pilot"})
    async with deps.db.begin() as s:
        await s.execute(
            update(Member).where(Member.user_id == "U1").values(away_until=date(2026, 11, 27))
        )
    # 4 hours before: Thu 05:00 UTC. London 05:00 and New York 00:00 are night: their
    # reminders come at 20:00 on Wednesday, their time (20:00 UTC; 01:00 UTC on Thursday).
    # Fran's clock is UTC: 05:00 is night for her too.
    await at(scheduler, clock, datetime(2026, 11, 25, 19, 59, tzinfo=UTC))
    assert (await reminded(deps)).get("4h") is None
    await at(scheduler, clock, datetime(2026, 11, 25, 20, 0, tzinfo=UTC))
    assert (await reminded(deps))["4h"] == {"F1"}  # Ada is away
    await at(scheduler, clock, datetime(2026, 11, 26, 1, 0, tzinfo=UTC))
    assert (await reminded(deps))["4h"] == {"F1", "U2"}
    await at(scheduler, clock, datetime(2026, 11, 26, 5, 0, tzinfo=UTC))
    assert (await reminded(deps))["4h"] == {"F1", "U2"}  # Tokyo answered, Ada is away
    assert (await reminded(deps))["48h"] == {"U1", "U2", "U3", "F1"}

    # Every later tick and a restarted scheduler queue nothing again.
    before = await reminded(deps)
    await at(scheduler, clock, CLOSE - timedelta(minutes=1))
    assert await reminded(deps) == before
    await outbox.drain(deps)
    texts = [s.message.text for s in adapter.sent if "A reminder" in s.message.text]
    assert texts and all("Ada" not in t and "Bo" not in t and "Cy" not in t for t in texts)
    bo = next(s for s in adapter.sent if s.to.dm_user == "U2" and "A reminder" in s.message.text)
    assert "closes Thu 26 Nov 04:00 (America/New_York)" in bo.message.text


def test_a_reminder_due_in_a_members_night_comes_the_evening_before() -> None:
    opened = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    due = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    assert member_due(due, opened, "Europe/London") == due
    assert member_due(due, opened, "America/New_York") == datetime(2026, 11, 24, 1, tzinfo=UTC)
    assert member_due(due, opened, "Asia/Tokyo") == due
    late = datetime(2026, 11, 23, 22, 30, tzinfo=UTC)  # 22:30 in London: 20:00 that evening
    assert member_due(late, opened, "Europe/London") == datetime(2026, 11, 23, 20, tzinfo=UTC)
    # Never before the round opened: then the reminder keeps its own time.
    early = datetime(2026, 11, 23, 23, 0, tzinfo=UTC)
    assert member_due(early, datetime(2026, 11, 23, 21, tzinfo=UTC), "UTC") == early


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("round reminders 1 2 3 4", "At most 3 reminders"),
        ("round reminders 0", "'0' is not a number of hours before the close from 1 to 720"),
        ("round reminders soon", "'soon' is not a number of hours"),
        ("round reminders 4 4", "Each reminder needs its own number of hours."),
    ],
)
async def test_bad_reminder_hours_are_refused_and_nothing_changes(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter, words: str, says: str
) -> None:
    await say(bot, FRAN, "round start")
    assert says in await said(bot, FRAN, words)
    assert "one reminder 12 hours before" in await said(bot, FRAN, "round reminders")


async def test_off_and_default(deps: Deps, bot: Dispatcher, adapter: RecordingAdapter) -> None:
    await say(bot, FRAN, "round start")
    assert "no automatic reminder" in await said(bot, FRAN, "round reminders off")
    assert "no automatic reminder" in await said(bot, LONDON, "round reminders")
    assert "one reminder 12 hours" in await said(bot, FRAN, "round reminders default")

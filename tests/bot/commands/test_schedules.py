from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from bot.commands import rounds as round_commands
from bot.commands import schedules as schedule_commands
from bot.commands.dispatch import Dispatcher
from bot.domain import MemberInfo, Role
from bot.services import rounds as svc
from bot.services.context import Deps
from bot.store.models import Group, Member, Round
from tests.support.adapter import RecordingAdapter
from tests.support.chat import actor, dm
from tests.support.chat import said as say

DM = dm("U1")
FRAN = actor("F1", "Fran", Role.FACILITATOR, timezone="Europe/London")
ADA = actor("U1", "Ada", timezone="Asia/Tokyo")


@pytest.fixture
def bot(deps: Deps) -> Dispatcher:
    deps.adapters.add(RecordingAdapter(members={"learning": [MemberInfo("U1", "Ada")]}))
    return Dispatcher(deps, [*round_commands.SPECS, *schedule_commands.SPECS])


async def group(deps: Deps) -> Group:
    async with deps.db.begin() as s:
        return (await s.execute(select(Group))).scalar_one()


async def member(deps: Deps, user_id: str) -> Member:
    async with deps.db.begin() as s:
        return (await s.execute(select(Member).where(Member.user_id == user_id))).scalar_one()


async def test_a_facilitator_schedules_and_unschedules_rounds(deps: Deps, bot: Dispatcher) -> None:
    text = await say(bot, FRAN, "round schedule 0 9 * * mon weekly for 2d")
    assert "now start on `0 9 * * mon`" in text
    assert "stay open 2 days" in text
    # The clock says Monday 23 Nov 09:00 UTC; the next Monday 09:00 in London is a week on.
    assert "Your next one: Mon 30 Nov 2026 09:00 (Europe/London)" in text
    stored = await group(deps)
    assert (stored.round_schedule, stored.round_schedule_template) == (
        "0 9 * * mon for 2d",
        "weekly-reflection",
    )
    shown = await say(bot, ADA, "round schedule")
    assert "`0 9 * * mon`" in shown
    assert "(Asia/Tokyo)" in shown  # each reader sees their own next time
    assert "open for 2d" in shown

    assert "off here" in await say(bot, FRAN, "round unschedule")
    assert (await group(deps)).round_schedule is None
    assert "nothing changed" in await say(bot, FRAN, "round unschedule")
    assert "No rounds are scheduled" in await say(bot, ADA, "round schedule")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("round schedule 0 9 * *", "five cron fields"),
        ("round schedule 0 25 * * mon", "is not a valid schedule"),
        ("round schedule 0 9 31 2 *", "(it never fires: no date matches it)"),
        ("round schedule * 9 * * mon", "(it fires every minute; a schedule may fire at most once"),
        ("round schedule " + "1," * 6000 + "0 9 * * mon", "That schedule is too long"),
        ("round schedule 0 9 * * mon nosuch", "There is no round template 'nosuch'"),
        ("round schedule 0 9 * * mon weekly sensemaking", "Name one template"),
        ("round schedule 0 9 * * mon for", "Say how long"),
        ("round schedule 0 9 * * mon for 90d", "at most 30 days"),
        ("round schedule 0 9 * * mon for soon", "is not a duration"),
    ],
)
async def test_bad_schedules_are_refused_specifically(
    deps: Deps, bot: Dispatcher, command: str, expected: str
) -> None:
    assert expected in await say(bot, FRAN, command)
    async with deps.db.begin() as s:
        assert (await s.execute(select(Group.round_schedule))).scalars().all() in ([], [None])


async def test_only_facilitators_change_the_schedule(bot: Dispatcher) -> None:
    assert "Only a facilitator can schedule rounds" in await say(
        bot, ADA, "round schedule 0 9 * * mon"
    )
    assert "Only a facilitator" in await say(bot, ADA, "round unschedule")
    assert "not in a direct message" in await say(bot, FRAN, "round schedule 0 9 * * mon", DM)


async def test_timezone_set_show_and_auto(deps: Deps, bot: Dispatcher) -> None:
    assert "Your timezone is Asia/Tokyo (set)" in await say(bot, ADA, "timezone")
    text = await say(bot, ADA, "timezone america/new_york")
    assert "now America/New_York (it is Mon 23 Nov 2026 04:00 there)" in text
    assert (await member(deps, "U1")).timezone == "America/New_York"
    assert "is not a timezone" in await say(bot, ADA, "timezone Mars/Olympus")
    assert (await member(deps, "U1")).timezone == "America/New_York"
    assert "follows your profile: Asia/Tokyo" in await say(bot, ADA, "timezone auto")
    assert (await member(deps, "U1")).timezone == "Asia/Tokyo"
    assert "Use `timezone <name>`" in await say(bot, ADA, "timezone Europe London")


async def test_away_pauses_prompts_and_reminders(deps: Deps, bot: Dispatcher) -> None:
    assert "You are not away" in await say(bot, ADA, "away")
    text = await say(bot, ADA, "away until 2026-12-01")
    assert "away until 2026-12-01 (inclusive)" in text
    assert (await member(deps, "U1")).away_until == date(2026, 12, 1)
    assert "You are away until 2026-12-01" in await say(bot, ADA, "away")

    # A round started meanwhile does not ask Ada.
    started = await say(bot, FRAN, "round start")
    assert "(1 member away, not asked)" in started
    async with deps.db.begin() as s:
        round_ = (await s.execute(select(Round))).scalar_one()
        assert not await svc.is_recipient(s, round_.id, (await member(deps, "U1")).id)

    assert "Welcome back" in await say(bot, ADA, "away off")
    assert (await member(deps, "U1")).away_until is None
    assert "were not away" in await say(bot, ADA, "away off")
    assert "already passed" in await say(bot, ADA, "away until 2026-01-01")
    assert "Use `away until" in await say(bot, ADA, "away tomorrow")
    assert "away until 2026-12-07" in await say(bot, ADA, "away for 2w")

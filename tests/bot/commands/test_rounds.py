from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from bot.commands import rounds as round_commands
from bot.commands.dispatch import Dispatcher
from bot.domain import Actor, ChannelRef, Form, MemberInfo, Platform, Role
from bot.services import outbox
from bot.services import rounds as svc
from bot.services.context import Deps
from bot.store.models import Delivery, Response, Round
from tests.support.adapter import RecordingAdapter
from tests.support.chat import CHANNEL, actor, channel_with, dm, run, say
from tests.support.clock import Clock

FRAN = actor("F1", "Fran", Role.FACILITATOR)
ADA = actor("U1", "Ada")
BO = actor("U2", "Bo", timezone="America/New_York")
CY = actor("U3", "Cy")
PEOPLE = [MemberInfo(a.user_id, a.display_name, a.timezone) for a in (ADA, BO, CY)]


@pytest.fixture
def adapter(deps: Deps) -> RecordingAdapter:
    return channel_with(deps, PEOPLE)


@pytest.fixture
def bot(deps: Deps) -> Dispatcher:
    return Dispatcher(deps, round_commands.SPECS)


async def drain(deps: Deps) -> None:
    while (await outbox.drain(deps)).sent:
        pass


def all_text(adapter: RecordingAdapter) -> str:
    return "\n".join(svc.message_text(s.message) for s in adapter.sent)


async def count(deps: Deps, model: type[Delivery] | type[Response]) -> int:
    async with deps.db.begin() as s:
        return int(await s.scalar(select(func.count()).select_from(model)) or 0)


async def test_start_fans_out_one_dm_per_member_however_often_it_runs(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    woken: list[bool] = []
    deps.notify_outbox = lambda: woken.append(True)
    reply = await say(bot, FRAN, "round start", source_key="interaction-1")
    assert not reply.ephemeral
    text = reply.message.text
    assert "Round #1 *Weekly reflection* has started" in text
    assert "4 members" in text  # the channel's three and the facilitator
    assert "closes Thu 26 Nov 09:00 (UTC)" in text
    assert woken == [True]
    replay = await say(bot, FRAN, "round start", source_key="interaction-1")
    assert replay.message.text == "That request was already handled."
    again = await say(bot, FRAN, "round start")
    assert "Round #1 (Weekly reflection) is already open here" in again.message.text
    await drain(deps)
    await drain(deps)
    assert sorted(s.to.dm_user or "" for s in adapter.sent) == ["F1", "U1", "U2", "U3"]
    assert await count(deps, Delivery) == 4


async def test_start_arguments(deps: Deps, bot: Dispatcher, adapter: RecordingAdapter) -> None:
    reply = await say(bot, FRAN, "round start nope")
    assert "no round template 'nope'" in reply.message.text
    assert "dissonance, experiment-checkin, sensemaking, weekly-reflection" in reply.message.text
    reply = await say(bot, FRAN, "round start weekly for 40d")
    assert reply.message.text == "A round can stay open at most 30 days."
    reply = await say(bot, FRAN, "round start for")
    assert "Say how long" in reply.message.text
    reply = await say(bot, FRAN, "round start sensemaking", channel=dm(FRAN))
    assert "not in a direct message" in reply.message.text
    assert await count(deps, Delivery) == 0
    reply = await say(bot, FRAN, "round start dissonance for 36h")
    assert "*Dissonance*" in reply.message.text
    assert "closes Tue 24 Nov 21:00 (UTC)" in reply.message.text


async def test_members_cannot_start_close_or_remind(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    for text in ("round start", "round close", "round remind"):
        reply = await say(bot, ADA, text)
        assert reply.message.text.startswith("Only a facilitator can use"), text
    assert await count(deps, Delivery) == 0
    await say(bot, FRAN, "round start")
    await drain(deps)
    sent = len(adapter.sent)
    for text in ("round close 1", "round remind 1"):
        assert "Only a facilitator" in (await say(bot, BO, text)).message.text
    await drain(deps)
    assert len(adapter.sent) == sent
    async with deps.db.begin() as s:
        assert (await s.get_one(Round, 1)).state == "open"


async def test_answer_by_form_then_edit(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter, clock: Clock
) -> None:
    await say(bot, FRAN, "round start")
    form = await run(bot, BO, "answer 1", channel=dm(BO))
    assert isinstance(form, Form)
    assert form.command == "answer 1"
    assert [f.name for f in form.fields] == [
        "tried",
        "noticed",
        "next",
        "surprise",
        "visibility",
        "named",
    ]
    assert all(not f.required and f.max_length == 4000 for f in form.fields[:3])
    assert form.values == {"visibility": "group", "named": "no"}
    assert form.submit_label == "Save"
    assert "Thu 26 Nov 04:00 (America/New_York)" in form.intro
    submitted = {"tried": "Paired calls", "noticed": "", "next": "", "surprise": "70"}
    submitted |= {"visibility": "group", "named": "no"}
    reply = await say(bot, BO, "answer 1", channel=dm(BO), fields=submitted)
    assert reply.message.text.startswith("Saved your answers to round #1 (1 of 3 questions")
    assert "You can edit them until Thu 26 Nov 04:00 (America/New_York)" in reply.message.text
    assert reply.message.buttons[0].command == "answer 1"
    # A double submit of the same form: still one row.
    again = await say(bot, BO, "answer 1", channel=dm(BO), fields=submitted)
    assert again.message.text.startswith("Updated")
    assert await count(deps, Response) == 1
    edit = await run(bot, BO, "answer 1", channel=dm(BO))
    assert isinstance(edit, Form)
    assert edit.submit_label == "Update"
    assert edit.values["tried"] == "Paired calls"
    assert edit.values["surprise"] == "70"
    clock.advance(hours=1)
    reply = await say(bot, BO, 'answer 1 tried="Paired calls, twice" visibility=private')
    assert reply.message.text.startswith("Updated")
    assert "only you can see it" in reply.message.text
    async with deps.db.begin() as s:
        row = (await s.execute(select(Response))).scalar_one()
    assert (row.text, row.visibility, row.surprise) == ("Paired calls, twice", "private", 70)
    assert row.updated_at == clock()


async def test_answer_refusals(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter, clock: Clock
) -> None:
    await say(bot, FRAN, "round start")
    stranger = Actor(Platform.CONSOLE, "console", "X9", "Xan")
    reply = await say(bot, stranger, "answer 1 tried=hello")
    assert "was not sent to you" in reply.message.text
    # A facilitator finds any round of the workspace from a DM, but answers only one sent to them.
    lead = Actor(Platform.CONSOLE, "console", "F9", "Fen", None, Role.FACILITATOR)
    reply = await say(bot, lead, "answer 1 tried=hello", channel=dm(lead))
    assert "was not sent to you" in reply.message.text
    reply = await say(bot, ADA, "answer 1", fields={"tried": "", "visibility": "group"})
    assert reply.errors == {"tried": "Answer at least one question."}
    reply = await say(bot, ADA, "answer 1 surprise=150 tried=x")
    assert reply.errors == {"surprise": "surprise must be from 0 to 100, not 150."}
    reply = await say(bot, ADA, "answer 1 mood=ok")
    assert reply.message.text.startswith("Unknown field 'mood'")
    reply = await say(bot, ADA, "answer 7")
    assert "There is no round #7" in reply.message.text
    assert await count(deps, Response) == 0
    reply = await say(bot, ADA, "answer tried=inline")  # no id: the member's open round
    assert reply.message.text.startswith("Saved your answers to round #1")
    await say(bot, FRAN, "round close")
    reply = await say(bot, ADA, "answer 1 tried=late")
    assert "closed on Mon 23 Nov 09:00" in reply.message.text
    assert "can no longer be added or changed" in reply.message.text
    async with deps.db.begin() as s:
        assert (await s.execute(select(Response.text))).scalar_one() == "inline"


async def test_status_counts_for_members_and_deliveries_for_facilitators(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    adapter.fail_permanently.add("U3")
    adapter.fail_transiently["U2"] = 1
    await say(bot, FRAN, "round start")
    await drain(deps)
    await say(bot, ADA, "answer 1 tried=x noticed=y")
    member_view = (await say(bot, ADA, "round status")).message.text
    assert "Answered: 1 of 4 members (25%)." in member_view
    assert "You answered 2 of 3 questions." in member_view
    for hidden in ("Cy", "Bo", "Fran", "cannot_dm_user", "Deliveries"):
        assert hidden not in member_view
    facilitator_view = (await say(bot, FRAN, "round status 1")).message.text
    assert "Deliveries: 3 sent, 0 pending, 1 failed." in facilitator_view
    assert "- Cy: cannot_dm_user" in facilitator_view
    assert "Bo" not in facilitator_view  # retried and delivered
    in_dm = (await say(bot, CY, "round status 1", channel=dm(CY))).message.text
    assert "Answered: 1 of 4" in in_dm and "cannot_dm_user" not in in_dm
    other = ChannelRef(Platform.CONSOLE, "console", "elsewhere")
    assert "no learning group" in (await say(bot, ADA, "round status", channel=other)).message.text


async def test_remind_only_those_without_an_answer_and_not_twice(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter, clock: Clock
) -> None:
    await say(bot, FRAN, "round start")
    await say(bot, ADA, "answer 1 tried=x")
    await say(bot, FRAN, "answer 1 tried=y")
    await drain(deps)
    reply = await say(bot, FRAN, "round remind")
    assert reply.message.text == "Reminded 2 members who have not answered round #1 yet."
    repeat = await say(bot, FRAN, "round remind 1")
    assert "reminded less than an hour ago" in repeat.message.text
    await drain(deps)
    reminders = [s for s in adapter.sent if ":remind:" in s.key]
    assert sorted(s.to.dm_user or "" for s in reminders) == ["U2", "U3"]
    assert all(s.message.buttons[0].label == "Answer" for s in reminders)
    clock.advance(hours=2)
    await say(bot, BO, "answer 1 noticed=z")
    reply = await say(bot, FRAN, "round remind")
    assert reply.message.text == "Reminded 1 member who has not answered round #1 yet."
    await drain(deps)
    second = [s.key for s in adapter.sent if ":remind:2:" in s.key]
    assert len(second) == 1 and adapter.sent[-1].to.dm_user == "U3"
    await say(bot, CY, "answer 1 next=w")
    reply = await say(bot, FRAN, "round remind")
    assert reply.message.text.startswith("Nobody to remind")


async def test_close_posts_a_summary_without_private_answers(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    await say(bot, FRAN, "round start")
    await say(bot, ADA, 'answer 1 tried="We tried open rota planning."')
    await say(bot, BO, 'answer 1 tried="Shadowed a nurse for a day." named=yes')
    await say(bot, CY, 'answer 1 tried="CANARY-91x private" visibility=private')
    await say(bot, FRAN, 'answer 1 noticed="CANARY-91x facilitators" visibility=facilitators')
    reply = await say(bot, FRAN, "round close")
    assert reply.message.text == (
        "Round #1 is closed (4 of 4 members answered). The summary is being posted in the channel."
    )
    again = await say(bot, FRAN, "round close 1")
    assert again.message.text == "Round #1 is already closed (since Mon 23 Nov 09:00 (UTC))."
    await drain(deps)
    posts = [s for s in adapter.sent if s.to == CHANNEL]
    assert len(posts) == 1
    summary = posts[0].message
    assert summary.text.startswith("Round #1 *Weekly reflection* is closed: 4 of 4")
    assert summary.sections
    quoted = "\n".join(s.text for s in summary.sections)
    assert re.search(r'"We tried open rota planning." \(Member [A-Z]+\)', quoted)
    assert '"Shadowed a nurse for a day." (Bo)' in quoted
    assert "CANARY" not in all_text(adapter)
    async with deps.db.begin() as s:
        stored = (await s.get_one(Round, 1)).summary
    assert stored is not None and "We tried open rota planning." in stored
    assert "CANARY" not in stored
    latest = (await say(bot, FRAN, "round status")).message.text
    assert "no open round in this channel; the last one, round #1, closed on Mon" in latest
    closed = (await say(bot, ADA, "round status 1")).message.text
    assert "closed on Mon 23 Nov 09:00 (UTC)" in closed
    assert "Deliveries" not in closed


async def test_list_templates_and_round_help(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    assert "no learning group" in (await say(bot, ADA, "round list")).message.text
    await say(bot, FRAN, "round start")
    await say(bot, FRAN, "round start sensemaking for 2d")
    listing = (await say(bot, ADA, "round list")).message.text
    assert "#2 Sensemaking conversation: 0 of 4 answered, closes Wed 25 Nov 09:00 (UTC)" in listing
    assert "#1 Weekly reflection" in listing
    templates = (await say(bot, ADA, "round templates")).message.text
    assert "*weekly-reflection*: Weekly reflection (open for 3d, the default)" in templates
    assert "1. What did we try?" in templates
    status = (await say(bot, ADA, "round status")).message.text
    assert status.startswith("Round #2 *Sensemaking conversation*")
    assert "No round command 'stop'" in (await say(bot, ADA, "round stop")).message.text


async def test_a_member_who_is_away_gets_nothing(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter, clock: Clock
) -> None:
    from sqlalchemy import update

    from bot.store.models import Member

    await say(bot, ADA, "round list")  # Ada is known to the bot from here on
    async with deps.db.begin() as s:
        await s.execute(update(Member).values(away_until=clock().date()))
    reply = await say(bot, FRAN, "round start")
    assert "1 member away, not asked" in reply.message.text
    await drain(deps)
    assert "U1" not in {s.to.dm_user for s in adapter.sent}
    assert len(adapter.sent) == 3

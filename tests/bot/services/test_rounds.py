from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from bot.domain import Actor, MemberInfo, Platform, Role, Visibility
from bot.errors import UserError
from bot.services import groups, members, outbox, rounds
from bot.services.context import Deps
from bot.store.models import Delivery, Member, Response, Round, RoundRecipient
from bot.summarise import Entry, Summary
from tests.support.adapter import RecordingAdapter
from tests.support.chat import CHANNEL
from tests.support.clock import Clock

FACILITATOR = Actor(Platform.CONSOLE, "console", "F1", "Fran", platform_role=Role.FACILITATOR)
PEOPLE = [
    MemberInfo("U1", "Ada"),
    MemberInfo("U2", "Bo", "America/New_York"),
    MemberInfo("U3", "Cy"),
    MemberInfo("F1", "Fran"),  # the facilitator is in the channel too: still one DM
]


def actor(user_id: str) -> Actor:
    info = next(p for p in PEOPLE if p.user_id == user_id)
    return Actor(Platform.CONSOLE, "console", info.user_id, info.display_name, info.timezone)


async def start(
    deps: Deps,
    infos: Sequence[MemberInfo] = PEOPLE,
    *,
    template: str = "weekly-reflection",
    duration: timedelta = timedelta(days=3),
) -> rounds.Started:
    async with deps.db.begin() as s:
        group = await groups.ensure_group(s, CHANNEL, name="learning", timezone="Europe/London")
        opener = await members.ensure_member(s, FACILITATOR)
        audience = await members.ensure_members(s, Platform.CONSOLE, "console", list(infos))
        return await rounds.start_round(
            s,
            group=group,
            channel=CHANNEL,
            template=deps.templates[template],
            duration=duration,
            opened_by=opener,
            audience=audience,
            now=deps.clock(),
        )


async def member_id(deps: Deps, user_id: str) -> int:
    async with deps.db.begin() as s:
        found = await s.execute(select(Member.id).where(Member.user_id == user_id))
        return int(found.scalar_one())


async def answer(
    deps: Deps,
    round_id: int,
    user_id: str,
    answers: dict[str, str],
    *,
    visibility: Visibility = Visibility.GROUP,
    named: bool = False,
) -> rounds.Saved:
    mid = await member_id(deps, user_id)
    async with deps.db.begin() as s:
        round_ = await rounds.get_round(s, round_id, lock=True)
        return await rounds.save_answers(
            s,
            round_,
            mid,
            answers,
            surprise=60,
            visibility=visibility,
            named=named,
            now=deps.clock(),
        )


async def deliveries(deps: Deps) -> dict[str, Delivery]:
    async with deps.db.begin() as s:
        return {d.key: d for d in (await s.execute(select(Delivery))).scalars()}


async def responses(deps: Deps) -> list[Response]:
    async with deps.db.begin() as s:
        return list((await s.execute(select(Response).order_by(Response.id))).scalars())


@pytest.fixture
def adapter(deps: Deps) -> RecordingAdapter:
    recording = RecordingAdapter()
    deps.adapters.add(recording)
    return recording


async def test_start_queues_one_prompt_dm_per_recipient(
    deps: Deps, adapter: RecordingAdapter
) -> None:
    started = await start(deps)
    rid = started.round.id
    assert started.recipients == 4
    ids = {u: await member_id(deps, u) for u in ("U1", "U2", "U3", "F1")}
    assert set(await deliveries(deps)) == {f"round:{rid}:prompt:{m}" for m in ids.values()}
    await outbox.drain(deps)
    await outbox.drain(deps)
    assert sorted(s.to.dm_user or "" for s in adapter.sent) == ["F1", "U1", "U2", "U3"]
    bo = adapter.dms_to("U2")[0].message
    assert bo.text.startswith("*Weekly reflection* (round #")
    assert "1. What did you try this week?" in bo.text
    assert "3. What will you try next, and why?" in bo.text
    # Opened Mon 09:00 UTC for 3 days: Bo reads his own clock, Ada the group's.
    assert "Thu 26 Nov 04:00 (America/New_York)" in bo.text
    assert "Thu 26 Nov 09:00 (Europe/London)" in adapter.dms_to("U1")[0].message.text
    assert [(b.label, b.command) for b in bo.buttons] == [("Answer", f"answer {rid}")]
    async with deps.db.begin() as s:
        round_ = await rounds.get_round(s, rid)
        assert round_.prompts[0] == {"key": "tried", "text": "What did you try this week?"}
        assert round_.closes_at == deps.clock() + timedelta(days=3)
        count = await s.scalar(select(RoundRecipient.id).where(RoundRecipient.round_id == rid))
        assert count is not None


async def test_a_second_round_of_the_same_template_is_refused(deps: Deps) -> None:
    first = await start(deps)
    with pytest.raises(UserError, match=f"Round #{first.round.id} .* is already open"):
        await start(deps)
    other = await start(deps, template="dissonance")
    assert other.round.id != first.round.id
    assert len(await deliveries(deps)) == 8


async def test_away_members_are_not_asked(deps: Deps, clock: Clock) -> None:
    async with deps.db.begin() as s:
        for info, until in ((PEOPLE[0], clock().date()), (PEOPLE[1], date(2026, 11, 22))):
            member = await members.ensure_member(s, actor(info.user_id))
            member.away_until = until
    started = await start(deps)
    assert (started.recipients, started.skipped_away) == (3, 1)
    ada = await member_id(deps, "U1")
    assert all(d.member_id != ada for d in (await deliveries(deps)).values())


async def test_resolve_template_and_duration(deps: Deps) -> None:
    assert rounds.resolve_template(deps.templates, "weekly").key == "weekly-reflection"
    with pytest.raises(UserError, match="Templates: dissonance, experiment-checkin"):
        rounds.resolve_template(deps.templates, "nope")
    spec = deps.templates["dissonance"]
    assert rounds.round_duration(None, spec, deps.settings) == timedelta(days=5)
    assert rounds.round_duration("12h", spec, deps.settings) == timedelta(hours=12)
    with pytest.raises(UserError, match="at most 30 days"):
        rounds.round_duration("5w", spec, deps.settings)


async def test_answers_upsert_edit_and_remove(deps: Deps, clock: Clock) -> None:
    rid = (await start(deps)).round.id
    saved = await answer(deps, rid, "U1", {"tried": "a pilot", "noticed": "calm"})
    assert (saved.created, saved.updated) == (2, 0)
    created = clock()
    clock.advance(hours=2)
    saved = await answer(
        deps, rid, "U1", {"tried": "a bigger pilot"}, visibility=Visibility.PRIVATE
    )
    assert (saved.created, saved.updated) == (0, 1)
    rows = await responses(deps)
    assert [(r.prompt_key, r.text) for r in rows] == [
        ("tried", "a bigger pilot"),
        ("noticed", "calm"),
    ]
    assert rows[0].updated_at == clock() and rows[0].created_at == created
    assert {r.visibility for r in rows} == {"private"}  # one sharing choice for the round
    saved = await answer(deps, rid, "U1", {"noticed": ""})
    assert saved.removed == 1
    assert [r.prompt_key for r in await responses(deps)] == ["tried"]
    with pytest.raises(UserError, match="has no question 'bogus'"):
        await answer(deps, rid, "U1", {"bogus": "x"})


async def test_a_double_submit_race_ends_in_one_row(deps: Deps) -> None:
    rid = (await start(deps)).round.id
    await asyncio.gather(
        answer(deps, rid, "U2", {"tried": "first"}),
        answer(deps, rid, "U2", {"tried": "second"}),
    )
    rows = await responses(deps)
    assert len(rows) == 1
    assert rows[0].text in {"first", "second"}


async def test_shared_entries_hold_only_group_answers(deps: Deps) -> None:
    rid = (await start(deps)).round.id
    await answer(deps, rid, "U1", {"tried": "shared anonymously"})
    await answer(deps, rid, "U2", {"tried": "shared with name"}, named=True)
    await answer(deps, rid, "U3", {"tried": "CANARY private"}, visibility=Visibility.PRIVATE)
    await answer(deps, rid, "F1", {"tried": "CANARY facil"}, visibility=Visibility.FACILITATORS)
    async with deps.db.begin() as s:
        entries = await rounds.shared_entries(s, rid)
    assert [e.text for e in entries] == ["shared anonymously", "shared with name"]
    # Anonymous answers carry a label drawn for this summary only.
    assert entries[0].author == "Member A"
    assert entries[1].author == "Bo"
    assert all(e.id.startswith("response:") for e in entries)


async def test_close_due_rounds_closes_once_and_posts_the_summary(
    deps: Deps, adapter: RecordingAdapter, clock: Clock
) -> None:
    rid = (await start(deps)).round.id
    await answer(deps, rid, "U1", {"tried": "We paired on intake calls."})
    await answer(
        deps, rid, "U2", {"tried": "CANARY-7f3 never shared"}, visibility=Visibility.PRIVATE
    )
    clock.advance(days=2)
    assert await rounds.close_due_rounds(deps) == 0
    clock.advance(days=1)
    assert await rounds.close_due_rounds(deps) == 1
    assert await rounds.close_due_rounds(deps) == 0
    await outbox.drain(deps)
    posts = [s for s in adapter.sent if not s.to.is_dm]
    assert len(posts) == 1
    post = posts[0]
    assert (post.to, post.key) == (CHANNEL, f"round:{rid}:summary")
    assert "2 of 4 members answered" in post.message.text
    quoted = "\n".join(section.text for section in post.message.sections)
    assert re.search(r'"We paired on intake calls." \(Member [A-Z]+\)', quoted)
    async with deps.db.begin() as s:
        round_ = await rounds.get_round(s, rid)
    assert (round_.state, round_.closed_at) == ("closed", clock())
    assert round_.summary is not None and "We paired on intake calls." in round_.summary
    assert "CANARY" not in round_.summary
    assert all("CANARY" not in rounds.message_text(s.message) for s in adapter.sent)


class Broken:
    name = "broken"

    async def summarise(
        self,
        entries: Sequence[Entry],
        *,
        max_themes: int,
        max_quotes: int,
        history: Sequence[str] = (),
    ) -> Summary:
        raise RuntimeError("model unavailable")


async def test_a_failed_summary_is_finished_by_the_next_pass(
    deps: Deps, adapter: RecordingAdapter, clock: Clock
) -> None:
    rid = (await start(deps)).round.id
    working = deps.summariser
    deps.summariser = Broken()
    clock.advance(days=4)
    assert await rounds.close_due_rounds(deps) == 1
    async with deps.db.begin() as s:
        assert (await rounds.get_round(s, rid)).summary is None
    deps.summariser = working
    assert await rounds.close_due_rounds(deps) == 0
    async with deps.db.begin() as s:
        summary = (await rounds.get_round(s, rid)).summary
    assert summary is not None and "No answers were shared" in summary
    assert f"round:{rid}:summary" in await deliveries(deps)


async def test_due_reminders_go_once_to_those_without_an_answer(
    deps: Deps, adapter: RecordingAdapter, clock: Clock
) -> None:
    rid = (await start(deps)).round.id
    await answer(deps, rid, "U1", {"tried": "done"})
    async with deps.db.begin() as s:
        await s.execute(
            update(Member).where(Member.user_id == "U3").values(away_until=date(2026, 12, 1))
        )
    clock.advance(days=2)
    assert await rounds.send_due_reminders(deps) == 0  # 24h before the close: not yet
    clock.advance(hours=13)  # 11h before the close
    assert await rounds.send_due_reminders(deps) == 2  # Bo and Fran; Ada answered, Cy is away
    assert await rounds.send_due_reminders(deps) == 0
    keys = {k for k in await deliveries(deps) if ":autoremind:" in k}
    assert keys == {f"round:{rid}:autoremind:{await member_id(deps, u)}" for u in ("U2", "F1")}
    await outbox.drain(deps)
    reminder = next(s for s in adapter.dms_to("U2") if ":autoremind:" in s.key)
    assert "closes Thu 26 Nov 04:00 (America/New_York)" in reminder.message.text
    assert reminder.message.buttons[0].command == f"answer {rid}"
    clock.advance(hours=12)
    assert await rounds.send_due_reminders(deps) == 0  # closed by now


async def test_short_rounds_are_not_reminded_in_their_first_half(deps: Deps, clock: Clock) -> None:
    await start(deps, duration=timedelta(hours=12))
    assert await rounds.send_due_reminders(deps) == 0
    clock.advance(hours=6)
    assert await rounds.send_due_reminders(deps) == 4


async def test_answer_from_reply_fills_the_first_open_question(deps: Deps, clock: Clock) -> None:
    rid = (await start(deps)).round.id
    await answer(deps, rid, "U2", {"noticed": "calm"}, visibility=Visibility.FACILITATORS)
    reply = await rounds.answer_from_reply(deps, actor("U2"), rid, "  ran the pilot  ")
    assert "What did you try this week?" in reply.message.text
    assert "only facilitators can see it" in reply.message.text
    assert "Next question: What will you try next" in reply.message.text
    reply = await rounds.answer_from_reply(deps, actor("U2"), rid, "scale it")
    assert "That was the last question" in reply.message.text
    reply = await rounds.answer_from_reply(deps, actor("U2"), rid, "more")
    assert "answered every question" in reply.message.text
    rows = {r.prompt_key: r for r in await responses(deps)}
    assert rows["tried"].text == "ran the pilot"
    assert rows["next"].visibility == "facilitators"
    stranger = Actor(Platform.CONSOLE, "console", "X9", "Xan")
    reply = await rounds.answer_from_reply(deps, stranger, rid, "hello")
    assert "was not sent to you" in reply.message.text
    reply = await rounds.answer_from_reply(deps, actor("U1"), rid, "")
    assert "answer is required" in reply.message.text
    clock.advance(days=3)
    reply = await rounds.answer_from_reply(deps, actor("U1"), rid, "late")
    assert "closed on Thu 26 Nov 09:00" in reply.message.text
    assert len(await responses(deps)) == 3


async def test_delivery_report_names_failed_recipients(
    deps: Deps, adapter: RecordingAdapter
) -> None:
    rid = (await start(deps)).round.id
    adapter.fail_permanently.add("U3")
    adapter.fail_transiently["U2"] = 1
    await outbox.drain(deps)
    async with deps.db.begin() as s:
        report = await rounds.delivery_report(s, rid)
        counts = await rounds.progress(s, rid)
    assert (report.sent, report.pending, report.failed) == (2, 1, 1)
    assert report.failures == (("Cy", "cannot_dm_user"),)
    assert (counts.recipients, counts.answered, counts.rate) == (4, 0, 0)


async def test_a_closed_round_rejects_answers(deps: Deps, clock: Clock) -> None:
    rid = (await start(deps)).round.id
    async with deps.db.begin() as s:
        assert await rounds.mark_closed(s, rid, clock())
        assert not await rounds.mark_closed(s, rid, clock())
        round_ = await s.get_one(Round, rid)
        with pytest.raises(UserError, match="can no longer be added or changed"):
            rounds.check_open(round_, clock(), "UTC")

"""The digest as a conversation, through the dispatcher: members answer themes, the next week
opens with what they said, facilitators curate before posting, past weeks stay reachable."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bot.commands import Dispatcher
from bot.domain import ChannelRef, Platform, Role
from bot.services.context import Deps
from bot.store.models import Delivery, Digest, DigestResponse, Experiment, Member
from tests.support import world
from tests.support.chat import ADA, BEA, CAL, FAY, actor, ask, say
from tests.support.clock import Clock

FRI_W47 = datetime(2026, 11, 20, 16, tzinfo=UTC)
DOOR = [
    "We did the cardiogram on the doorstep and the patient relaxed straight away.",
    "The cardiogram at the doorstep persuaded the family more than any leaflet.",
    "Doing the cardiogram on the doorstep found a rhythm problem the clinic missed.",
]
BUS = [
    "The bus timetable changed again and two families missed the clinic bus.",
    "Families told us the bus timetable is why they skip appointments.",
    "A volunteer driver offered lifts when the bus timetable failed people.",
]
LEA = actor("u7", "Lea", Role.LEADER)


async def week_of(deps: Deps, at: datetime, texts: list[str], *, confidence: int = 50) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s)
        zed = await world.member(s, "u9", "Zed")
        e = (await s.execute(select(Experiment))).scalars().first() or (
            await world.experiment(s, g, "Doorstep", started_at=FRI_W47 - timedelta(weeks=3))
        )
        for n, text in enumerate(texts):
            await world.checkin(
                s, e, zed, text, at=at - timedelta(hours=n + 1), confidence=confidence
            )


async def posted_week(bot: Dispatcher, deps: Deps, clock: Clock) -> Digest:
    """Week 47 with two themes, posted; the clock stays on that Friday."""
    clock.now = FRI_W47
    await week_of(deps, FRI_W47, DOOR + BUS)
    posted = await say(bot, FAY, "digest now")
    assert posted.message.text.startswith("Posting this week's digest (2026-W47)")
    async with deps.db.begin() as s:
        digest = (await s.execute(select(Digest).where(Digest.variant == "group"))).scalar_one()
    assert len(digest.themes or []) >= 2
    return digest


def _read(path: str) -> str:
    return Path(path).read_text(encoding="utf-8")


def section(content: dict[str, Any], title: str) -> dict[str, Any]:
    return next(s for s in content["sections"] if s["title"] == title)


async def test_each_theme_carries_its_two_answers(
    bot: Dispatcher, deps: Deps, clock: Clock
) -> None:
    digest = await posted_week(bot, deps, clock)
    asking = section(digest.content, "Does this match what you see?")
    commands = [b["command"] for b in asking["buttons"]]
    assert commands[:4] == [
        f"digest respond {digest.id}.1 agree",
        f"digest respond {digest.id}.1 differ",
        f"digest respond {digest.id}.2 agree",
        f"digest respond {digest.id}.2 differ",
    ]
    labels = [b["label"] for b in asking["buttons"]]
    assert labels[:2] == ["1. This matches what we see", "1. We see it differently"]
    # The outbox carries the buttons with the digest, as it was stored.
    async with deps.db.begin() as s:
        payloads = list((await s.execute(select(Delivery.payload))).scalars())
    assert any(f"digest respond {digest.id}.1 agree" in str(p) for p in payloads)


async def test_agreeing_twice_is_one_answer_and_a_change_of_mind_replaces_it(
    bot: Dispatcher, deps: Deps, clock: Clock
) -> None:
    digest = await posted_week(bot, deps, clock)
    key = f"{digest.id}.1"
    first = await say(bot, ADA, f"digest respond {key} agree")
    assert first.message.text.startswith("Noted: theme 1 “")
    again = await say(bot, ADA, f"digest respond {key} agree")
    assert again.message.text.startswith("Already noted: theme 1 “")
    form = await ask(bot, ADA, f"digest respond {key} differ")
    assert form.command == f"digest respond {key} differ"
    assert [f.name for f in form.fields] == ["text", "visibility", "named"]
    changed = await say(
        bot, ADA, f"digest respond {key} differ", fields={"text": "Not on our estate."}
    )
    assert "you see theme 1" in changed.message.text and "anonymously" in changed.message.text
    # The same answer by its number in the channel's latest digest.
    same = await say(bot, ADA, "digest respond 1 differ", fields={"text": "Not on our estate."})
    assert same.message.text.startswith("Already noted")
    async with deps.db.begin() as s:
        rows = list((await s.execute(select(DigestResponse))).scalars())
    assert [(r.theme, r.stance, r.text) for r in rows] == [(1, "differ", "Not on our estate.")]


async def test_bad_answers_get_a_short_reason_and_save_nothing(
    bot: Dispatcher, deps: Deps, clock: Clock
) -> None:
    clock.now = FRI_W47
    await week_of(deps, FRI_W47, DOOR + BUS)
    draft = await say(bot, FAY, "digest preview")
    assert draft.message.text.startswith("Preview")
    async with deps.db.begin() as s:
        digest_id = (await s.execute(select(Digest.id).where(Digest.variant == "group"))).scalar()
    not_yet = await say(bot, ADA, f"digest respond {digest_id}.1 agree")
    assert not_yet.message.text == (
        "That digest is not posted yet: themes can be answered once it is."
    )
    await say(bot, FAY, "digest now")
    cases = {
        "digest respond": "Usage: `digest respond <theme> agree|differ",
        "digest respond 1 maybe": "Usage: `digest respond <theme> agree|differ",
        "digest respond one agree": "'one' is not a theme.",
        "digest respond 9 agree": "The 2026-W47 digest has themes 1 to",
        "digest respond 999.1 agree": "There is no digest theme 999.1.",
        "digest respond 1 agree text=hi": "Agreeing takes no text.",
        "digest respond 1 differ colour=red": "Unknown field 'colour'.",
    }
    for command, reason in cases.items():
        reply = await say(bot, ADA, command)
        assert reply.message.text.startswith(reason), (command, reply.message.text)
    too_long = await run_fields(bot, "1 differ", {"text": "x" * 1001})
    assert "text" in too_long
    elsewhere = ChannelRef(Platform.SLACK, "T9", "C9")
    stranger = await say(bot, ADA, f"digest respond {digest_id}.1 agree", elsewhere)
    assert stranger.message.text == f"There is no digest theme {digest_id}.1."
    async with deps.db.begin() as s:
        assert (await s.execute(select(func.count(DigestResponse.id)))).scalar_one() == 0


async def run_fields(bot: Dispatcher, words: str, fields: dict[str, str]) -> dict[str, str]:
    reply = await say(bot, ADA, f"digest respond {words}", fields=fields)
    assert reply.message.text.startswith("Not saved") or reply.errors, reply
    return reply.errors


async def test_next_week_opens_with_what_members_said(
    bot: Dispatcher, deps: Deps, clock: Clock
) -> None:
    digest = await posted_week(bot, deps, clock)
    await say(bot, ADA, f"digest respond {digest.id}.1 agree")
    await say(bot, BEA, f"digest respond {digest.id}.1 agree")
    await say(
        bot,
        CAL,
        f"digest respond {digest.id}.1 differ",
        fields={"text": "On our estate nobody opens the door.", "named": "yes"},
    )
    await say(
        bot,
        FAY,
        f"digest respond {digest.id}.2 differ",
        fields={"text": "CANARY-PRIVATE-ANSWER", "visibility": "private"},
    )
    await say(
        bot,
        BEA,
        f"digest respond {digest.id}.2 differ",
        fields={"text": "The bus is fine, the fare is not."},
    )
    clock.now = FRI_W47 + timedelta(weeks=1)
    await week_of(deps, clock.now, DOOR)
    preview = await say(bot, FAY, "digest preview")
    first = preview.message.sections[0]
    assert first.title == "What you said about last week"
    label1, label2 = (str(t["label"]) for t in (digest.themes or [])[:2])
    assert first.text == (
        f"*{label1}*: 2 people said it matches what they see; 1 person sees it differently.\n"
        "  > “On our estate nobody opens the door.” (Cal)\n\n"
        f"*{label2}*: 1 person sees it differently.\n"
        "  > “The bus is fine, the fare is not.” (a member)"
    )
    assert "CANARY" not in str(preview.message)
    leader = await say(bot, LEA, "digest preview leader")
    assert leader.message.sections[0].title == "What you said about last week"
    assert "CANARY" not in str(leader.message)


async def test_facilitators_curate_the_draft_and_the_curated_one_is_posted(
    bot: Dispatcher, deps: Deps, clock: Clock
) -> None:
    clock.now = FRI_W47
    await week_of(deps, FRI_W47, DOOR + BUS)
    refused = await say(bot, ADA, "digest edit note hello")
    assert refused.message.text == "Only a facilitator can use `digest edit`."
    form = await ask(bot, FAY, "digest edit")
    assert [f.name for f in form.fields] == ["action", "theme", "quote", "text"]
    preview = await say(bot, FAY, "digest preview")
    learning = next(s for s in preview.message.sections if s.title == "What we are learning")
    quotes = [line for line in learning.text.split("\n") if line.startswith("  > ")]
    assert len(quotes) >= 3
    done = await say(bot, FAY, "digest edit rename 1 Doorstep tests")
    assert done.message.text.startswith("Saved to this week's draft: theme 1 “")
    assert "renamed “Doorstep tests”" in done.message.text
    await say(bot, FAY, "digest edit drop 1 1")
    await say(bot, FAY, "digest edit pin 2 2", fields={})
    note = {"action": "note", "text": "Thanks, all."}
    first = await say(bot, FAY, "digest edit", fields=note, source_key="slack:view:V1:h1")
    assert first.message.text.startswith("Saved to this week's draft: note")
    replay = await say(bot, FAY, "digest edit", fields=note, source_key="slack:view:V1:h1")
    assert replay.message.text.startswith("Already saved to this week's draft: note")
    assert "4 changes" in replay.message.text
    for bad, reason in {
        "digest edit rename 9 x": "'9' is not a theme: give a number from 1 to",
        "digest edit drop 1 99": "'99' is not a quote: give a number from 1 to",
        "digest edit rename 1": "label",
        "digest edit pin 1": "Which quote? Give its number, 1 to",
        "digest edit note " + "x" * 1001: "A note is at most 1000 characters",
        "digest edit paint 1": "Usage: `digest edit rename",
    }.items():
        reply = await say(bot, FAY, bad)
        assert reason in reply.message.text, (bad, reply.message.text)
    shown = await say(bot, FAY, "digest preview")
    assert "Curated: theme 1 “" in shown.message.text
    assert shown.message.sections[0].title == "From the facilitators"
    assert shown.message.sections[0].text == "Thanks, all."
    curated = next(s for s in shown.message.sections if s.title == "What we are learning")
    assert curated.text.startswith("*Doorstep tests*: ")
    assert quotes[0] not in curated.text  # dropped
    posted = await say(bot, FAY, "digest now")
    assert posted.message.text.startswith("Posting")
    async with deps.db.begin() as s:
        digest = (await s.execute(select(Digest).where(Digest.variant == "group"))).scalar_one()
    assert digest.state == "posted"
    assert [e["action"] for e in digest.edits or []] == ["rename", "drop", "pin", "note"]
    assert section(digest.content, "What we are learning")["text"] == curated.text
    assert (digest.themes or [])[0]["label"] == "Doorstep tests"
    shown_later = await say(bot, FAY, "digest show 2026-W47")
    assert shown_later.message.text.startswith("Curated: theme 1 “")
    assert "note: “Thanks, all.”" in shown_later.message.text
    member_view = await say(bot, ADA, "digest show 2026-W47")
    assert member_view.message.text.startswith("Weekly digest")
    late = await say(bot, FAY, "digest edit note too late")
    assert late.message.text.startswith("This week's digest (2026-W47) was already posted")


async def test_past_weeks_are_listed_and_shown(bot: Dispatcher, deps: Deps, clock: Clock) -> None:
    async with deps.db.begin() as s:
        await world.group(s)
    empty = await say(bot, ADA, "digest history")
    assert empty.message.text == "No digest has been posted yet."
    digest = await posted_week(bot, deps, clock)
    await say(bot, ADA, f"digest respond {digest.id}.1 agree")
    clock.now = FRI_W47 + timedelta(weeks=1)
    await week_of(deps, clock.now, BUS)
    await say(bot, FAY, "digest now")
    history = await say(bot, ADA, "digest history")
    lines = history.message.text.split("\n")
    assert lines[0].startswith("Posted digests, latest first")
    assert lines[1].startswith("• 2026-W48: ") and lines[1].endswith("(0 answers)")
    assert lines[2].startswith("• 2026-W47: ") and lines[2].endswith("(1 answer)")
    shown = await say(bot, ADA, "digest show 2026-W47")
    assert shown.message.text.startswith("Weekly digest · Frontline · 2026-W47")


async def test_leaders_see_what_changed(bot: Dispatcher, deps: Deps, clock: Clock) -> None:
    await posted_week(bot, deps, clock)
    clock.now = FRI_W47 + timedelta(weeks=1)
    await week_of(deps, clock.now, DOOR, confidence=90)
    leader = await say(bot, LEA, "digest preview leader")
    changed = next(s for s in leader.message.sections if s.title == "What changed")
    assert "• Recurring: *" in changed.text and "(also 2026-W47)" in changed.text
    assert "• Fading: *" in changed.text and "(last in 2026-W47)" in changed.text
    assert "• Confidence in “Doorstep” rose from 50 to" in changed.text
    async with deps.db.begin() as s:
        assert (await s.execute(select(func.count(Member.id)))).scalar_one() > 0


async def test_export_holds_answers_and_forget_me_takes_them_out_of_digests(
    bot: Dispatcher, deps: Deps, clock: Clock
) -> None:
    digest = await posted_week(bot, deps, clock)
    words = "On our estate nobody opens the door to strangers."
    await say(
        bot,
        CAL,
        f"digest respond {digest.id}.1 differ",
        fields={"text": words, "named": "yes"},
    )
    await say(bot, BEA, f"digest respond {digest.id}.2 differ", fields={"text": "Buses are fine."})
    exported = await say(bot, CAL, "export")
    [path] = exported.message.attachments
    data = json.loads(_read(path))
    assert data["digest_answers"] == [
        {
            "digest_week": "2026-W47",
            "theme": 1,
            "answer": "differ",
            "text": words,
            "visibility": "group",
            "named": True,
            "created_at": data["digest_answers"][0]["created_at"],
            "updated_at": data["digest_answers"][0]["updated_at"],
        }
    ]
    clock.now = FRI_W47 + timedelta(weeks=1)
    await week_of(deps, clock.now, DOOR)
    await say(bot, FAY, "digest now")
    async with deps.db.begin() as s:
        stored = (await s.execute(select(Digest.text).where(Digest.week == "2026-W48"))).all()
    assert any(words in t for (t,) in stored)
    await say(bot, CAL, "forget-me confirm")
    async with deps.db.begin() as s:
        left = list((await s.execute(select(DigestResponse.text))).scalars())
        stored = (await s.execute(select(Digest.text, Digest.content))).all()
    assert left == ["Buses are fine."]
    for text, content in stored:
        assert words not in text and words not in json.dumps(content)
        assert "(Cal)" not in text
    assert any("Buses are fine." in t for t, _ in stored)

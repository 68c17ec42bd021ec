from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.services.context import Deps
from bot.services.digests import sections
from bot.services.digests.sections import SECTIONS
from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.variants import GROUP, LEADER, VARIANTS
from bot.services.digests.week import WeekData
from bot.summarise import Entry, Quote, Summary, Theme
from tests.bot.services.digests.scene import MON, build, scene, section
from tests.support import world
from tests.support.clock import Clock


def test_every_section_has_a_key_of_its_own_and_a_known_variant() -> None:
    keys = [s.key for s in SECTIONS]
    assert len(keys) == len(set(keys))
    assert all(s.variants and set(s.variants) <= set(VARIANTS) for s in SECTIONS)


async def test_the_registry_is_what_each_variant_renders(deps: Deps, clock: Clock) -> None:
    sc = await scene(deps)
    clock.now = MON + timedelta(days=4)
    for variant in VARIANTS:
        digest = await build(deps, sc.group.id, variant)
        titles = [s["title"] for s in digest.content["sections"]]
        # "What you said" and the facilitators' note are left out: no last week, no note.
        quiet = ("said", "note")
        assert titles == [s.title for s in SECTIONS if variant in s.variants and s.key not in quiet]
    assert [s.key for s in sections.for_variant(LEADER)] == [
        "said",
        "note",
        "momentum",
        "assumptions",
        "insight",
        "changes",
    ]


async def test_a_new_section_is_one_entry_in_the_list(
    deps: Deps, monkeypatch: pytest.MonkeyPatch
) -> None:
    def render(data: WeekData, summary: Summary) -> Body:
        return Body(f"{len(data.experiments)} experiments", ("group:1",))

    extra = DigestSection("count", "Count", {GROUP: render})
    at = [s.key for s in SECTIONS].index("momentum") + 1
    monkeypatch.setattr(sections, "SECTIONS", (*SECTIONS[:at], extra, *SECTIONS[at:]))
    async with deps.db.begin() as s:
        g = await world.group(s)
    digest = await build(deps, g.id)
    assert [s["title"] for s in digest.content["sections"]][:2] == ["Momentum", "Count"]
    assert section(digest, "Count") == {
        "title": "Count",
        "text": "0 experiments",
        "source_ids": ["group:1"],
    }
    assert "Count\n0 experiments" in digest.text
    leader = await build(deps, g.id, LEADER)
    assert "Count" not in [s["title"] for s in leader.content["sections"]]


async def test_surprises_hear_many_voices_first(deps: Deps) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s)
        ada = await world.member(s, "u1", "Ada")
        bea = await world.member(s, "u2", "Bea")
        e = await world.experiment(s, g, "Doorstep", started_at=MON, hypothesis="Doors open")
        for n, surprise in enumerate((99, 98, 97)):
            await world.checkin(
                s, e, ada, f"Ada surprise {n}.", at=MON + timedelta(hours=n), surprise=surprise
            )
        await world.checkin(s, e, bea, "Bea surprise.", at=MON, surprise=70)
        await world.checkin(s, e, bea, "Bea as expected.", at=MON, surprise=59)
    digest = await build(deps, g.id)
    lines = str(section(digest, "Surprises and dissonance")["text"]).split("\n")
    assert [line.split(": ", 1)[1].split("”")[0] for line in lines] == [
        "“Ada surprise 0.",
        "“Bea surprise.",
        "“Ada surprise 1.",
    ]
    # Confidence 50 with no earlier level is no challenge to the hypothesis.
    assert lines[0].endswith(f", on #{e.id} “Doorstep”.")
    assert "challenges" not in "\n".join(lines)


async def test_a_round_answer_counts_once_and_is_quoted_where_it_surprised(deps: Deps) -> None:
    """One member's answers to a round's questions are one answer with one rating: the chart
    said 17 entries for 7 people when each question counted."""
    async with deps.db.begin() as s:
        g = await world.group(s)
        ada = await world.member(s, "u1", "Ada")
        r = await world.round_(s, g, opened_at=MON, closes_at=MON + timedelta(days=2))
        await world.response(s, r, ada, "We phoned every family first.", at=MON, surprise=90)
        await world.response(
            s,
            r,
            ada,
            "It turned out the families wanted letters, not calls.",
            at=MON,
            prompt_key="noticed",
            surprise=90,
        )
    digest = await build(deps, g.id)
    lines = str(section(digest, "Surprises and dissonance")["text"]).split("\n")
    assert len(lines) == 1
    assert lines[0].startswith("• 90/100: “It turned out the families wanted letters")
    assert "over 1 answer or check-in:" in digest.content["alt_texts"][0]


async def test_a_check_in_is_quoted_from_the_field_that_surprised(deps: Deps) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s)
        ada = await world.member(s, "u1", "Ada")
        e = await world.experiment(s, g, "Letters", started_at=MON)
        await world.checkin(
            s,
            e,
            ada,
            "We visited the flats on Tuesday.",
            learned="Nobody wanted a call; what surprised us was how much letters mattered.",
            at=MON,
            surprise=85,
        )
    digest = await build(deps, g.id)
    text = str(section(digest, "Surprises and dissonance")["text"])
    assert text.startswith("• 85/100: “Nobody wanted a call; what surprised us")


async def test_challenges_only_below_the_earlier_level_or_fifty(deps: Deps, clock: Clock) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s)
        ada = await world.member(s, "u1", "Ada")
        bea = await world.member(s, "u2", "Bea")
        before = MON - timedelta(days=3)
        fell = await world.experiment(s, g, "Fell", started_at=before, hypothesis="It works")
        steady = await world.experiment(s, g, "Steady", started_at=before, hypothesis="Fine")
        await world.checkin(s, fell, ada, "Went well.", at=before, confidence=70)
        await world.checkin(s, steady, bea, "Went fine.", at=before, confidence=50)
        await world.checkin(
            s, fell, ada, "Harder than it looked.", at=MON, surprise=80, confidence=55
        )
        await world.checkin(
            s, steady, bea, "Easier than we thought.", at=MON, surprise=75, confidence=55
        )
    clock.now = MON + timedelta(days=4)
    digest = await build(deps, g.id)
    lines = str(section(digest, "Surprises and dissonance")["text"]).split("\n")
    assert lines[0].endswith(
        f"Confidence 55, down from 70: it challenges #{fell.id} “Fell”: It works."
    )
    assert lines[1].endswith(f", on #{steady.id} “Steady”.")
    questions = str(section(digest, "Questions for next week")["text"])
    assert f"Confidence in #{fell.id} “Fell” fell from 70 to 55 this week" in questions
    assert f"A surprise on #{fell.id} “Fell”" in questions  # nothing came after it


class _Planned:
    """A summariser whose theme's first quote is a to-do item."""

    name = "offline"

    async def summarise(
        self,
        entries: Sequence[Entry],
        *,
        max_themes: int,
        max_quotes: int,
        history: Sequence[str] = (),
    ) -> Summary:
        todo, seen = entries[0], entries[1]
        quotes = (Quote(todo.id, todo.text, todo.author), Quote(seen.id, seen.text, seen.author))
        theme = Theme(
            "families present", "Families came to the first visit.", quotes, (todo.id, seen.id)
        )
        return Summary((theme,), (), self.name)


async def test_the_leader_digest_quotes_no_to_do_item(deps: Deps) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s)
        ada = await world.member(s, "u1", "Ada")
        e = await world.experiment(s, g, "Families", started_at=MON)
        await world.checkin(s, e, ada, "Try the same question with families present.", at=MON)
        await world.checkin(
            s,
            e,
            ada,
            "Families changed the plan more than any form did.",
            at=MON + timedelta(hours=1),
        )
    deps.summariser = _Planned()
    leader = await build(deps, g.id, LEADER)
    insight = str(section(leader, "Insight")["text"])
    assert insight.startswith("*families present*: Families came to the first visit.")
    assert "Families changed the plan" in insight
    assert "Try the same question" not in insight

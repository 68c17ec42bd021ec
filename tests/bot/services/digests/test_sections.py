from __future__ import annotations

from datetime import timedelta

import pytest

from bot.services.context import Deps
from bot.services.digests import sections
from bot.services.digests.sections import SECTIONS
from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.variants import GROUP, LEADER, VARIANTS
from bot.services.digests.week import WeekData
from bot.summarise import Summary
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
    assert lines[0].endswith(f"It challenges #{e.id} “Doorstep”: Doors open.")

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import load_settings
from bot.errors import UserError
from bot.services.context import Deps
from bot.store.models import Digest
from bot.summarise import Entry, Quote, Summary, Theme
from tests.bot.services.digests.scene import (
    CANARIES,
    CARDIOGRAM,
    HIDDEN_NAMES,
    MON,
    WEEK,
    Recording,
    build,
    count,
    every_text,
    png_signature,
    scene,
    section,
    shareable_texts,
)
from tests.support import world
from tests.support.clock import Clock


async def test_the_digest_says_what_the_group_learned(deps: Deps, clock: Clock) -> None:
    sc = await scene(deps)
    clock.now = MON + timedelta(days=4, hours=16)
    digest = await build(deps, sc.group.id)
    ids = sc.ids
    assert digest.week == WEEK and digest.variant == "group" and digest.state == "draft"
    titles = [s["title"] for s in digest.content["sections"]]
    assert titles == [
        "Momentum",
        "What we are learning",
        "Does this match what you see?",
        "Choices and dyads",
        "Surprises and dissonance",
        "Assumptions tested",
        "Replications",
        "Connected cycles",
        "Governance alarms",
        "Questions for next week",
    ]
    head = digest.content["text"]
    assert head.startswith("Weekly digest · Frontline · 2026-W48: 3 experiments running, ")
    assert "1 concluded, 15 check-ins, 75% answered the round." in head

    momentum = section(digest, "Momentum")
    assert momentum["text"] == (
        "• Experiments: 1 started, 3 running, 1 concluded this week.\n"
        "• Check-ins: 15 (13 shared with the group).\n"
        "• Reflection rounds: 3 of 4 people asked answered (75%) across 1 round."
    )
    assert f"round:{ids['round']}" in momentum["source_ids"]
    assert f"experiment:{ids['damp']}" in momentum["source_ids"]

    learning = section(digest, "What we are learning")
    text = str(learning["text"])
    blocks = text.split("\n\n")
    assert len(blocks) == 3
    labels = " ".join(b.split("\n")[0] for b in blocks)
    for key in ("cardiogram", "bus", "damp"):
        assert key in labels, labels
    shared = await shareable_texts(deps, sc)
    quotes = re.findall(r"> “(.+?)” \((.+?)\)", text)
    assert quotes and all(any(q in t for t in shared) for q, _ in quotes)
    authors = {a for _, a in quotes}
    assert all(a == "Ada Lovelace" or re.fullmatch(r"Member [A-Z]+", a) for a in authors)
    for source in learning["source_ids"]:
        assert source in digest.entry_ids

    surprises = str(section(digest, "Surprises and dissonance")["text"])
    first = surprises.split("\n")[0]
    assert first.startswith(f"• 95/100: “{CARDIOGRAM[0]}” (Ada Lovelace)")
    # Confidence 30 is below 50: the check-in challenges the hypothesis.
    assert f"Confidence 30, down from 50: it challenges #{ids['cardio']}" in first
    assert "answering “What did you try this week?”" in surprises

    assumptions = str(section(digest, "Assumptions tested")["text"])
    assert assumptions.startswith(f"• #{ids['damp']} “Damp letters”: hypothesis stronger")
    assert "Learned: Letters from the tenant and us together got repairs started." in assumptions

    replications = str(section(digest, "Replications")["text"])
    assert f"adopted from #{ids['original']} “Cardiogram first” in North team" in replications
    assert "check-ins lean stronger (mean confidence 75)" in replications
    assert "the original concluded stronger. Same way so far." in replications

    connected = section(digest, "Connected cycles")
    assert f"Cycle #{ids['door']} “Front door” (team, under #{ids['place']}" in str(
        connected["text"]
    )
    assert "Neighbours came out to talk" in str(connected["text"])
    assert f"cycle:{ids['door']}" in connected["source_ids"]

    assert f"#{ids['alarm']} no recent check-in" in str(
        section(digest, "Governance alarms")["text"]
    )
    questions = str(section(digest, "Questions for next week")["text"])
    assert f"#{ids['damp']} “Damp letters” came out stronger" in questions

    # Every shareable entry of the week (and the connected cycle's) is recorded, nothing else.
    assert len(digest.entry_ids) == 13 + 2 + 1
    assert f"checkin:{ids['cardio0']}" in digest.entry_ids

    assert digest.chart_path is not None
    assert png_signature(digest.chart_path) == b"\x89PNG\r\n\x1a\n"
    assert digest.content["attachments"] == [digest.chart_path]
    [alt] = digest.content["alt_texts"]
    assert alt.startswith("Chart: ") and "Experiments by status" in alt
    assert Path(digest.chart_path).parent == deps.settings.bot.data_dir / "charts"


async def test_private_and_facilitator_entries_never_reach_the_digest_or_the_model(
    deps: Deps, clock: Clock
) -> None:
    sc = await scene(deps)
    recorder = Recording()
    deps.summariser = recorder
    clock.now = MON + timedelta(days=4)
    built = [await build(deps, sc.group.id, v) for v in ("group", "leader")]
    assert recorder.seen
    given = " ".join(f"{e.text} {e.author}" for e in recorder.seen)
    for canary in CANARIES:
        assert canary not in given
        for digest in built:
            assert canary not in every_text(digest)
    for name in HIDDEN_NAMES:  # never named: only pseudonyms
        assert name not in given
        for digest in built:
            assert name not in every_text(digest)
    assert "Ada Lovelace" in given  # she chose to be named on one entry
    assert all(e.author == "Ada Lovelace" or e.author.startswith("Member ") for e in recorder.seen)


class Failing:
    name = "llm"

    async def summarise(
        self,
        entries: Sequence[Entry],
        *,
        max_themes: int,
        max_quotes: int,
        history: Sequence[str] = (),
    ) -> Summary:
        raise RuntimeError("the model is down")


class Inventing:
    """Returns one honest quote, one invented, one from an entry it was never given."""

    name = "llm"

    def __init__(self, private_id: str) -> None:
        self.private_id = private_id

    async def summarise(
        self,
        entries: Sequence[Entry],
        *,
        max_themes: int,
        max_quotes: int,
        history: Sequence[str] = (),
    ) -> Summary:
        real = entries[0]
        quotes = (
            Quote(real.id, real.text[:30], "Somebody Real"),
            Quote(real.id, "Words nobody wrote.", "Member 000000"),
            Quote(self.private_id, "CANARY", "Member 000000"),
        )
        theme = Theme("made up", "A theme.", quotes, (real.id, self.private_id, "checkin:9999"))
        return Summary((theme,), ("What next?",), "llm")


async def test_a_failing_model_falls_back_to_offline(deps: Deps, clock: Clock) -> None:
    sc = await scene(deps)
    deps.summariser = Failing()
    clock.now = MON + timedelta(days=4)
    digest = await build(deps, sc.group.id)
    assert digest.summariser == "offline (fallback)"
    assert len(str(section(digest, "What we are learning")["text"]).split("\n\n")) == 3


async def test_quotes_a_model_invents_are_dropped(deps: Deps, clock: Clock) -> None:
    sc = await scene(deps)
    private_id = f"checkin:{sc.ids['cardio0'] + 100}"
    deps.summariser = Inventing(private_id)
    clock.now = MON + timedelta(days=4)
    digest = await build(deps, sc.group.id)
    learning = section(digest, "What we are learning")
    text = str(learning["text"])
    assert "Words nobody wrote" not in text and "CANARY" not in text
    assert "Somebody Real" not in text
    assert len(re.findall(r"> “", text)) == 1
    assert private_id not in learning["source_ids"] and "checkin:9999" not in str(learning)


async def test_the_leader_variant_is_shorter(deps: Deps, clock: Clock) -> None:
    sc = await scene(deps)
    clock.now = MON + timedelta(days=4)
    full = await build(deps, sc.group.id)
    leader = await build(deps, sc.group.id, "leader")
    assert [s["title"] for s in leader.content["sections"]] == [
        "Momentum",
        "Assumptions tested",
        "Insight",
        "What changed",
    ]
    assert len(leader.text) < len(full.text) / 2
    insight = str(section(leader, "Insight")["text"])
    assert insight.count("> “") == 3  # one quote per theme
    assert leader.entry_ids == full.entry_ids
    assert await count(deps, Digest) == 2


async def test_an_empty_week_still_makes_a_digest(deps: Deps, tmp_path: Path) -> None:
    deps.settings = load_settings(
        env={"CYCLES_DATA_DIR": str(tmp_path / "d"), "CYCLES_DIGEST__CHARTS": "false"}
    )
    async with deps.db.begin() as s:
        g = await world.group(s)
    digest = await build(deps, g.id)
    assert "No shared check-ins or answers this week" in digest.text
    assert "Reflection rounds: none this week." in digest.text
    assert digest.chart_path is None and digest.entry_ids == []
    assert section(digest, "Questions for next week")["text"] == (
        "• What did we try this week that we have not written down yet?"
    )
    with pytest.raises(UserError, match="variant must be one of"):
        await build(deps, g.id, "everyone")

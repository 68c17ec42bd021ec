"""Curating a draft (changes that follow their theme or no longer apply), and the leaders'
"What changed" over the scene's week."""

from __future__ import annotations

from datetime import timedelta

from bot.services.context import Deps
from bot.services.digests import curation
from bot.services.digests.sections.changes import same_theme
from bot.summarise import Quote, Summary, Theme
from tests.bot.services.digests.scene import MON, build, scene, section
from tests.support.clock import Clock


def theme(label: str, *quotes: str) -> Theme:
    return Theme(
        label,
        f"About {label}.",
        tuple(Quote(q, f"words of {q}", "Member A") for q in quotes),
        quotes,
    )


SUMMARY = Summary(
    (theme("bus timetable", "checkin:1", "checkin:2"), theme("damp flats", "checkin:3")),
    (),
    "offline",
)


def test_a_change_follows_its_theme_and_never_lands_on_another() -> None:
    edits: list[curation.Edit] = [
        {"action": "rename", "theme": 1, "label": "bus timetable", "text": "Buses fail people"},
        {"action": "drop", "theme": 1, "label": "bus timetable", "quote": "checkin:1"},
        {"action": "pin", "theme": 2, "label": "damp flats", "quote": "checkin:3"},
        {"action": "note", "text": "first"},
        {"action": "note", "text": "Thanks."},
    ]
    curated = curation.apply(SUMMARY, edits)
    first, second = curated.summary.themes
    assert first.label == "Buses fail people"
    assert [q.entry_id for q in first.quotes] == ["checkin:2"]
    assert second == SUMMARY.themes[1]
    assert curated.unapplied == ()
    assert curation.note_of(edits) == "Thanks."
    stored = curation.stored_themes(curated)
    assert stored[0] == {
        "label": "Buses fail people",
        "original": "bus timetable",
        "entry_ids": list(SUMMARY.themes[0].entry_ids),
        "quote_ids": ["checkin:2"],
        "shown_quote_ids": ["checkin:2"],
    }
    assert "words of" not in str(stored)  # quote text stays in its entry

    # A rebuild put the themes the other way round, and the damp theme lost its quote.
    rebuilt = Summary((theme("damp flats"), SUMMARY.themes[0]), (), "offline")
    moved = curation.apply(rebuilt, edits)
    assert [t.label for t in moved.summary.themes] == ["damp flats", "Buses fail people"]
    assert [e["action"] for e in moved.unapplied] == ["pin"]
    gone = curation.apply(Summary((theme("new things"),), (), "offline"), edits)
    assert gone.summary.themes[0].label == "new things"
    assert len(gone.unapplied) == 3


def test_labels_that_share_most_words_are_one_theme() -> None:
    assert same_theme("reduced blood panel", "the blood panels")
    assert same_theme("Trust before data", "trust before the data arrives")
    assert not same_theme("bus timetable", "damp flats")
    assert not same_theme("the", "of")


async def test_leaders_see_confidence_and_replications_move(deps: Deps, clock: Clock) -> None:
    sc = await scene(deps)
    clock.now = MON + timedelta(days=4)
    leader = await build(deps, sc.group.id, "leader")
    lines = str(section(leader, "What changed")["text"]).split("\n")
    assert lines[:3] == [f"• New this week: *{t}*" for t in _labels(leader)]
    assert "• Confidence in “Cardiogram at the door” fell from 50 to 34" in lines
    assert (
        "• “Cardiogram first (adopted)” in Frontline so far agrees with the original in North "
        "team (stronger here, stronger there)"
    ) in lines


def _labels(digest: object) -> list[str]:
    return [str(t["label"]) for t in getattr(digest, "themes", None) or []][:3]

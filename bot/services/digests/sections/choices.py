"""Choices and dyads: the answers to a round's choice questions as counts with a small bar
chart, and its dyads as where the answers fell between the two poles, next to the text themes.
Counts only: nobody's answer is shown, and only answers shared with the group are counted."""

from __future__ import annotations

from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.variants import GROUP
from bot.services.digests.week import WeekData
from bot.services.rounds.tallies import lines_for
from bot.summarise import Summary


def render(data: WeekData, summary: Summary) -> Body:
    if not data.tallies:
        return Body("No choice or dyad questions were answered this week.")
    ids = tuple(dict.fromkeys(f"round:{t.round_id}" for t in data.tallies))
    return Body("\n".join(lines_for(data.tallies)), ids)


SECTION = DigestSection("choices", "Choices and dyads", {GROUP: render})

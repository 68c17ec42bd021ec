"""A note from the facilitators, written with `digest edit note` before posting."""

from __future__ import annotations

from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.variants import GROUP, LEADER
from bot.services.digests.week import WeekData
from bot.summarise import Summary


def render(data: WeekData, summary: Summary) -> Body:
    return Body(data.conversation.note)  # empty when there is none: the section is left out


SECTION = DigestSection("note", "From the facilitators", {GROUP: render, LEADER: render})

"""Insight, the leader variant's themes: the first few, each with one quote."""

from __future__ import annotations

from bot.services.digests.sections.learning import learning
from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.variants import LEADER
from bot.services.digests.week import WeekData
from bot.summarise import Summary


def render(data: WeekData, summary: Summary) -> Body:
    return learning(summary, leader=True)


SECTION = DigestSection("insight", "Insight", {LEADER: render})

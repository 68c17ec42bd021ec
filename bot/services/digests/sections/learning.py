"""What we are learning: the summariser's themes with their verbatim quotes. The leader
variant's Insight section is the same themes, fewer and shorter."""

from __future__ import annotations

from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.sections.text import sources
from bot.services.digests.variants import GROUP
from bot.services.digests.week import WeekData
from bot.summarise import Summary
from bot.summarise.quotes import is_plan

LEADER_THEMES = 3
EMPTY = "No shared check-ins or answers this week to learn from."


def learning(summary: Summary, *, leader: bool = False) -> Body:
    themes = summary.themes[:LEADER_THEMES] if leader else summary.themes
    if not themes:
        return Body(EMPTY)
    blocks = []
    for theme in themes:
        quotes = list(theme.shown_quotes())
        if leader:
            quotes = [q for q in quotes if not is_plan(q.text)][:1]  # no to-do items
        lines = [f"*{theme.label}*: {theme.summary}" if theme.summary else f"*{theme.label}*"]
        lines += [f"  > “{q.text}” ({q.author})" for q in quotes]
        blocks.append("\n".join(lines))
    ids = sources(*[t.entry_ids for t in themes], [q.entry_id for t in themes for q in t.quotes])
    return Body("\n\n".join(blocks), ids)


def render(data: WeekData, summary: Summary) -> Body:
    return learning(summary)


SECTION = DigestSection("learning", "What we are learning", {GROUP: render})

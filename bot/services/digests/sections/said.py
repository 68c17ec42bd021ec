"""What you said about last week: per theme of last week's digest, how many said it matches
what they see, and the differing voices in their own words, so dissonance stays visible rather
than averaged away. Shareable answers only; a voice is named only when its author chose it."""

from __future__ import annotations

from bot.domain.plural import plural
from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.variants import GROUP, LEADER
from bot.services.digests.week import WeekData
from bot.summarise import Summary


def render(data: WeekData, summary: Summary) -> Body:
    talk = data.conversation
    if talk.last_week is None:
        return Body("")  # no digest last week: the section is left out
    if not talk.said:
        return Body(f"Nobody answered last week's themes ({talk.last_week}).")
    blocks = []
    for theme in talk.said:
        counts = []
        if theme.agreed:
            counts.append(
                f"{plural(theme.agreed, 'person', 'people')} said it matches what they see"
            )
        if theme.differ:
            verb = "sees" if len(theme.differ) == 1 else "see"
            counts.append(f"{plural(len(theme.differ), 'person', 'people')} {verb} it differently")
        lines = [f"*{theme.label}*: {'; '.join(counts)}."]
        lines += [f"  > “{v.text}” ({v.author})" for v in theme.differ]
        blocks.append("\n".join(lines))
    return Body("\n\n".join(blocks))


SECTION = DigestSection("said", "What you said about last week", {GROUP: render, LEADER: render})

"""Questions for next week: the summariser's, plus one for each experiment that moved its
hypothesis; a standing question when there are none."""

from __future__ import annotations

from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.sections.text import ref
from bot.services.digests.variants import GROUP
from bot.services.digests.week import WeekData
from bot.summarise import Summary

MAX_QUESTIONS = 4


def render(data: WeekData, summary: Summary) -> Body:
    asked = list(summary.questions)
    for e in data.concluded():
        if e.verdict in ("weaker", "stronger"):
            asked.append(f"{ref(e)} came out {e.verdict}: what do we try next because of it?")
    if not asked:
        asked.append("What did we try this week that we have not written down yet?")
    lines = [f"• {q}" for q in dict.fromkeys(asked)][:MAX_QUESTIONS]
    return Body("\n".join(lines))


SECTION = DigestSection("questions", "Questions for next week", {GROUP: render})

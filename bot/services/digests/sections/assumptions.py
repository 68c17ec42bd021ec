"""Assumptions tested: experiments concluded this week, their verdicts and what was learned.
The leader variant leaves out the evidence and the hypothesis, and cuts long lessons."""

from __future__ import annotations

from bot.domain.plural import plural
from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.sections.text import EXCERPT, ref, sentence_end, sources
from bot.services.digests.variants import GROUP, LEADER
from bot.services.digests.week import WeekData
from bot.summarise import Summary


def assumptions(data: WeekData, *, short: bool = False) -> Body:
    concluded = data.concluded()
    if not concluded:
        return Body("No experiment concluded this week.")
    lines = []
    for e in concluded:
        verdict = e.verdict or "no verdict"
        conf = data.confidence.get(e.id)
        evidence = (
            f" ({plural(conf[1], 'shared check-in')}, mean confidence {conf[0]:.0f})"
            if conf and not short
            else ""
        )
        learned = (e.learned or "").strip()
        if short and len(learned) > EXCERPT:
            learned = learned[:EXCERPT].rsplit(" ", 1)[0] + "…"
        line = f"• {ref(e)}: hypothesis {verdict}{evidence}."
        if not short:
            line += f" We assumed: {sentence_end(e.hypothesis)}"
        if learned:
            line += f" Learned: {learned}"
        lines.append(line)
    return Body("\n".join(lines), sources([f"experiment:{e.id}" for e in concluded]))


def full(data: WeekData, summary: Summary) -> Body:
    return assumptions(data)


def short(data: WeekData, summary: Summary) -> Body:
    return assumptions(data, short=True)


SECTION = DigestSection("assumptions", "Assumptions tested", {GROUP: full, LEADER: short})

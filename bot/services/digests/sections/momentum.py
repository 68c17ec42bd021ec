"""Momentum: experiments started, running and concluded, check-ins, round answers. The leader
variant says the same in one line."""

from __future__ import annotations

from bot.domain.plural import plural
from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.sections.text import sources
from bot.services.digests.variants import GROUP, LEADER
from bot.services.digests.week import WeekData
from bot.summarise import Summary


def momentum(data: WeekData, *, short: bool = False) -> Body:
    started, running, concluded = data.started(), data.running(), data.concluded()
    shared = sum(1 for e in data.entries if e.kind == "checkin")
    asked, answered = data.rate()
    if short:
        parts = [
            f"{plural(len(running), 'experiment')} running",
            f"{len(concluded)} concluded",
            f"{len(started)} started",
            plural(data.checkins_total, "check-in"),
        ]
        if asked:
            parts.append(f"{answered / asked:.0%} answered the reflection round")
        text = "; ".join(parts) + "."
    else:
        lines = [
            f"• Experiments: {len(started)} started, {len(running)} running, "
            f"{len(concluded)} concluded this week.",
            f"• Check-ins: {data.checkins_total} ({shared} shared with the group).",
        ]
        if asked:
            lines.append(
                f"• Reflection rounds: {answered} of "
                f"{plural(asked, 'person', 'people')} asked answered "
                f"({answered / asked:.0%}) across {plural(len(data.rounds), 'round')}."
            )
        else:
            lines.append("• Reflection rounds: none this week.")
        text = "\n".join(lines)
    ids = [f"experiment:{e.id}" for e in (*started, *running, *concluded)]
    ids += [f"round:{r.id}" for r in data.rounds]
    return Body(text, sources(ids))


def full(data: WeekData, summary: Summary) -> Body:
    return momentum(data)


def short(data: WeekData, summary: Summary) -> Body:
    return momentum(data, short=True)


SECTION = DigestSection("momentum", "Momentum", {GROUP: full, LEADER: short})

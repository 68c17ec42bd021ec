"""Questions for next week, from the week itself: a theme only one person raised (the
summariser's), a replication that disagreed with its original, an experiment whose confidence
fell, a surprise nobody followed up, an experiment that moved its hypothesis. A standing
question only when the week raised none."""

from __future__ import annotations

from datetime import datetime

from bot.services.digests.sections.replications import directions
from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.sections.text import ref
from bot.services.digests.variants import GROUP
from bot.services.digests.week import WeekData
from bot.summarise import Summary

MAX_QUESTIONS = 4
# Confidence this many points below its earlier level has fallen, not wobbled.
FELL_BY = 5
# A check-in this surprising deserves another after it.
FOLLOW_UP = 70
STANDING = "What did we try this week that we have not written down yet?"


def disagreements(data: WeekData) -> list[str]:
    out = []
    for r in data.replications:
        here, there = directions(r, data)
        if here is not None and there is not None and here != there:
            out.append(
                f"{ref(r.copy)} in {r.copy_group} leans {here}, its original {ref(r.original)} "
                f"in {r.original_group} {there}: what differs between the two places?"
            )
    return out


def falls(data: WeekData) -> list[str]:
    now = data.confidence_this_week()
    by_id = {e.id: e for e in data.experiments}
    out = []
    for eid, level in sorted(now.items()):
        before = data.confidence_before.get(eid)
        experiment = by_id.get(eid)
        if experiment is not None and before is not None and level <= before - FELL_BY:
            out.append(
                f"Confidence in {ref(experiment)} fell from {before:.0f} to {level:.0f} this "
                "week: what did we see that we did not expect?"
            )
    return out


def unfollowed(data: WeekData) -> list[str]:
    """Experiments whose most surprising check-in this week has no check-in after it."""
    by_id = {e.id: e for e in data.running()}  # a concluded one needs no follow-up
    latest: dict[int, datetime] = {}
    surprising = []
    for e in data.entries:
        eid = e.experiment_id
        if eid is None or eid not in by_id:
            continue
        if eid not in latest or e.created_at > latest[eid]:
            latest[eid] = e.created_at
        if (e.surprise or 0) >= FOLLOW_UP:
            surprising.append(e)
    out = []
    seen: set[int] = set()
    for e in sorted(surprising, key=lambda x: (-(x.surprise or 0), x.created_at, x.id)):
        eid = e.experiment_id
        if eid is None or eid in seen:
            continue
        seen.add(eid)
        if e.created_at >= latest[eid]:
            day = e.created_at.strftime("%A")
            out.append(
                f"A surprise on {ref(by_id[eid])} ({day}, {e.surprise}/100) has no check-in "
                "after it: who will follow it up?"
            )
    return out


def render(data: WeekData, summary: Summary) -> Body:
    asked = [*disagreements(data), *falls(data), *unfollowed(data), *summary.questions]
    for e in data.concluded():
        if e.verdict in ("weaker", "stronger"):
            asked.append(f"{ref(e)} came out {e.verdict}: what do we try next because of it?")
    if not asked:
        asked.append(STANDING)
    lines = [f"• {q}" for q in dict.fromkeys(asked)][:MAX_QUESTIONS]
    return Body("\n".join(lines))


SECTION = DigestSection("questions", "Questions for next week", {GROUP: render})

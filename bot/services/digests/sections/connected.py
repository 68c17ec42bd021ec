"""Connected cycles: the cycles below this group's, their experiments, verdicts concluded this
week, and the most surprising shared check-in among them."""

from __future__ import annotations

from collections import Counter

from bot.domain.plural import plural
from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.sections.text import excerpt, ref, sources
from bot.services.digests.variants import GROUP
from bot.services.digests.week import WeekData
from bot.summarise import Summary


def render(data: WeekData, summary: Summary) -> Body:
    if not data.connected:
        return Body("No cycles connect below this group's cycles.")
    lines = []
    ids: list[str] = []
    for link in data.connected:
        c = link.cycle
        statuses = Counter(e.status for e in link.experiments)
        status_text = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none"
        verdicts = [
            f"{ref(e)} {e.verdict}"
            for e in link.experiments
            if e.status == "concluded"
            and e.verdict
            and e.concluded_at is not None
            and data.start <= e.concluded_at < data.end
        ]
        line = (
            f"• Cycle #{c.id} “{c.name}” ({c.scale}, "
            f"under #{link.parent.id} “{link.parent.name}”): "
            f"{plural(len(link.experiments), 'experiment')} ({status_text}); "
            f"{plural(len(link.entries), 'shared check-in')} this week."
        )
        if verdicts:
            line += f" Concluded: {'; '.join(verdicts)}."
        ids.append(f"cycle:{c.id}")
        ids += [f"experiment:{e.id}" for e in link.experiments]
        if link.entries:
            best = max(link.entries, key=lambda e: (e.surprise or 0, e.created_at, e.id))
            line += f" Highlight: {excerpt(best.entry.text)} ({best.entry.author})"
            ids.append(best.id)
        lines.append(line)
    return Body("\n".join(lines), sources(ids))


SECTION = DigestSection("connected", "Connected cycles", {GROUP: render})

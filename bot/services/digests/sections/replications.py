"""Replications: adopted experiments next to their originals, and whether they agree."""

from __future__ import annotations

from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.sections.text import lean, ref, sources
from bot.services.digests.variants import GROUP
from bot.services.digests.week import Replication, WeekData
from bot.store.models import Experiment
from bot.summarise import Summary


def _result(e: Experiment, conf: tuple[float, int] | None) -> tuple[str, str | None]:
    """(words, direction) for one side of a replication."""
    if e.status == "concluded" and e.verdict:
        return f"concluded {e.verdict}", e.verdict
    way = lean(conf)
    if way is None or conf is None:
        return f"{e.status}, no shared check-ins yet", None
    return f"{e.status}, check-ins lean {way} (mean confidence {conf[0]:.0f})", way


def directions(r: Replication, data: WeekData) -> tuple[str | None, str | None]:
    """Which way the copy and the original point (a verdict, or where check-ins lean)."""
    return (
        _result(r.copy, data.confidence.get(r.copy.id))[1],
        _result(r.original, data.confidence.get(r.original.id))[1],
    )


def render(data: WeekData, summary: Summary) -> Body:
    if not data.replications:
        return Body("No adopted experiment ran this week.")
    lines = []
    ids: list[str] = []
    for r in data.replications:
        here, here_way = _result(r.copy, data.confidence.get(r.copy.id))
        there, there_way = _result(r.original, data.confidence.get(r.original.id))
        if here_way is None or there_way is None:
            verdict = "too early to compare"
        elif here_way == there_way:
            verdict = "replicated" if r.copy.verdict and r.original.verdict else "same way so far"
        else:
            verdict = (
                "did not replicate"
                if r.copy.verdict and r.original.verdict
                else ("pointing different ways so far")
            )
        lines.append(
            f"• {ref(r.copy)} in {r.copy_group}, adopted from {ref(r.original)} in "
            f"{r.original_group}: {here}; the original {there}. {verdict.capitalize()}."
        )
        ids += [f"experiment:{r.copy.id}", f"experiment:{r.original.id}"]
    return Body("\n".join(lines), sources(ids))


SECTION = DigestSection("replications", "Replications", {GROUP: render})

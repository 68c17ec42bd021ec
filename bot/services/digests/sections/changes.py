"""What changed (leaders): movement across weeks, not one week. Themes new this week, recurring
(with the weeks they appeared), fading (in recent weeks, not this one); experiments whose
confidence moved; replications whose results agreed or disagreed with their originals."""

from __future__ import annotations

import re

from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.variants import LEADER
from bot.services.digests.week import Replication, WeekData
from bot.summarise import Summary

_WORD = re.compile(r"[a-z0-9]+")
SMALL = frozenset(
    {"a", "an", "and", "the", "of", "to", "in", "on", "for", "with", "from", "at", "by", "is"}
    | {"are", "was", "our", "we", "it"}
)
SAME = 0.5  # share of content words two labels hold in common to be one theme


def words(label: str) -> frozenset[str]:
    """A label's content words, with a plural "s" dropped so "panels" meets "panel"."""
    found = (w.removesuffix("s") if len(w) > 3 else w for w in _WORD.findall(label.lower()))
    return frozenset(w for w in found if w not in SMALL)


def same_theme(a: str, b: str) -> bool:
    x, y = words(a), words(b)
    return bool(x and y) and len(x & y) / min(len(x), len(y)) >= SAME


def _themes(data: WeekData, summary: Summary) -> list[str]:
    past = data.conversation.past_themes
    lines = []
    for theme in summary.themes:
        seen = [week for week, labels in past if any(same_theme(theme.label, x) for x in labels)]
        if seen:
            lines.append(f"• Recurring: *{theme.label}* (also {', '.join(seen)})")
        else:
            lines.append(f"• New this week: *{theme.label}*")
    recent = past[-2:]  # a theme of the last two weeks that is not back this week is fading
    fading: dict[str, str] = {}
    for week, labels in recent:
        for label in labels:
            back = any(same_theme(label, t.label) for t in summary.themes)
            if label and not back and not any(same_theme(label, x) for x in fading):
                fading[label] = week
    lines += [f"• Fading: *{label}* (last in {week})" for label, week in fading.items()]
    return lines


def _direction(r: Replication, data: WeekData, copy: bool) -> str | None:
    e = r.copy if copy else r.original
    if e.status == "concluded" and e.verdict:
        return e.verdict
    conf = data.confidence.get(e.id)
    if conf is None:
        return None
    return "stronger" if conf[0] >= 55 else "weaker" if conf[0] <= 45 else None


def _replications(data: WeekData) -> list[str]:
    lines = []
    for r in data.replications:
        here, there = _direction(r, data, True), _direction(r, data, False)
        if here is None or there is None:
            continue
        settled = bool(r.copy.verdict and r.original.verdict)
        if here == there:
            agreed = "agreed with" if settled else "so far agrees with"
        else:
            agreed = "disagreed with" if settled else "so far disagrees with"
        lines.append(
            f"• “{r.copy.title}” in {r.copy_group} {agreed} the original in {r.original_group} "
            f"({here} here, {there} there)"
        )
    return lines


def render(data: WeekData, summary: Summary) -> Body:
    lines = _themes(data, summary)
    for m in data.conversation.moved:
        way = "rose" if m.after > m.before else "fell"
        lines.append(f"• Confidence in “{m.title}” {way} from {m.before:.0f} to {m.after:.0f}")
    lines += _replications(data)
    if (
        not data.conversation.past_themes
        and not data.conversation.moved
        and len(lines) <= len(summary.themes)
    ):
        lines.insert(0, "The first digest to compare with: every theme is new.")
    return Body("\n".join(lines) if lines else "Nothing moved this week.")


SECTION = DigestSection("changes", "What changed", {LEADER: render})

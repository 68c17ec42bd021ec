"""A digest as a message: a headline with the week's figures and themes, then the variant's
sections in registry order; and the plain text the digest row keeps."""

from __future__ import annotations

from bot.domain import Message, Section
from bot.domain.plural import plural
from bot.services.digests.sections import for_variant
from bot.services.digests.sections.learning import LEADER_THEMES
from bot.services.digests.variants import LEADER
from bot.services.digests.week import WeekData
from bot.summarise import Summary

GROUP_THEMES = 5  # themes the group headline names


def headline(data: WeekData, summary: Summary, variant: str) -> str:
    asked, answered = data.rate()
    facts = [
        f"{plural(len(data.running()), 'experiment')} running",
        f"{len(data.concluded())} concluded",
        plural(data.checkins_total, "check-in"),
    ]
    if asked:
        facts.append(f"{answered / asked:.0%} answered the round")
    kind = "Leader digest" if variant == LEADER else "Weekly digest"
    line = f"{kind} · {data.group.name} · {data.week}: {', '.join(facts)}."
    labels = [
        t.label for t in summary.themes[: LEADER_THEMES if variant == LEADER else GROUP_THEMES]
    ]
    if labels:
        line += f" Themes: {'; '.join(labels)}."
    return line


def sections_for(data: WeekData, summary: Summary, variant: str) -> tuple[Section, ...]:
    rendered = (s.section(data, summary, variant) for s in for_variant(variant))
    return tuple(s for s in rendered if s.text)  # a section with nothing to say is left out


def message(
    data: WeekData, summary: Summary, variant: str, chart: str | None, alt: str = ""
) -> Message:
    return Message(
        headline(data, summary, variant),
        sections_for(data, summary, variant),
        attachments=(chart,) if chart else (),
        alt_texts=(alt,) if chart else (),
    )


def plain_text(message: Message) -> str:
    parts = [message.text] + [f"{s.title}\n{s.text}" for s in message.sections]
    return "\n\n".join(parts)

"""Does this match what you see? Each theme with two answers a member can give: "This matches
what we see" and "We see it differently" (a short form). Each button runs
`digest respond <digest id>.<theme> agree|differ`, so it works the same on every platform and
still works after a restart."""

from __future__ import annotations

from bot.domain import Button
from bot.services.digests.responses import AGREE, DIFFER, theme_key
from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.variants import GROUP
from bot.services.digests.week import WeekData
from bot.summarise import Summary

MATCHES, DIFFERS = "This matches what we see", "We see it differently"


def render(data: WeekData, summary: Summary) -> Body:
    digest_id = data.conversation.digest_id
    if digest_id is None or not summary.themes:
        return Body("")
    lines = ["Does each theme match what you see? Answer with its buttons:"]
    buttons: list[Button] = []
    for position, theme in enumerate(summary.themes, start=1):
        key = theme_key(digest_id, position)
        lines.append(f"{position}. {theme.label}")
        buttons += [
            Button(f"{position}. {MATCHES}", f"digest respond {key} {AGREE}", "primary"),
            Button(f"{position}. {DIFFERS}", f"digest respond {key} {DIFFER}"),
        ]
    return Body("\n".join(lines), buttons=tuple(buttons))


SECTION = DigestSection("respond", "Does this match what you see?", {GROUP: render})

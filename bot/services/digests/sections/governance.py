"""Governance alarms raised during the week or still open, one line each."""

from __future__ import annotations

from bot.services import alarms
from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.sections.text import sources
from bot.services.digests.variants import GROUP
from bot.services.digests.week import WeekData
from bot.summarise import Summary


def render(data: WeekData, summary: Summary) -> Body:
    if not data.alarms:
        return Body("No alarms raised or open.")
    lines = [f"• {alarms.describe(a, data.group.timezone)}" for a in data.alarms]
    return Body("\n".join(lines), sources([f"alarm:{a.id}" for a in data.alarms]))


SECTION = DigestSection("alarms", "Governance alarms", {GROUP: render})

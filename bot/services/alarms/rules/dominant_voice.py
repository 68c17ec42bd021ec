"""One person writing more than `dominant_share` of the group's check-ins over four weeks."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.plural import plural
from bot.services.alarms.rule import Finding, Rule
from bot.store.models import CheckIn, Experiment, Group

KEY = "dominant_voice"
# Who writes the check-ins is measured over this window.
WINDOW = timedelta(days=28)


async def check(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    limits = settings.alarms
    start = now - WINDOW
    rows = (
        await session.execute(
            select(CheckIn.member_id, func.count(CheckIn.id))
            .join(Experiment, CheckIn.experiment_id == Experiment.id)
            .where(Experiment.group_id == group.id, CheckIn.created_at >= start)
            .group_by(CheckIn.member_id)
        )
    ).all()
    counts = Counter({int(member): int(n) for member, n in rows})
    total = sum(counts.values())
    if total < limits.dominant_min_checkins:
        return []
    top = max(counts.values())
    if top / total <= limits.dominant_share:
        return []
    weeks = WINDOW.days // 7
    return [
        Finding(
            KEY,
            f"group:{group.id}",
            f"One person wrote {top} of the {plural(total, 'check-in')} in the last "
            f"{plural(weeks, 'week')} "
            f"({top / total:.0%}, above {limits.dominant_share:.0%}): whose voice is missing?",
            start,
        )
    ]


RULE = Rule(KEY, "one dominant voice", check, ("dominant_share", "dominant_min_checkins"))

"""A running experiment with no check-in for `stale_checkin_days`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.plural import plural
from bot.services.alarms.rule import Finding, Rule, aware
from bot.store.models import CheckIn, Experiment, Group

KEY = "stale_checkin"


async def check(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    query = (
        select(Experiment.id, Experiment.title, Experiment.started_at, func.max(CheckIn.created_at))
        .outerjoin(CheckIn, CheckIn.experiment_id == Experiment.id)
        .where(Experiment.group_id == group.id, Experiment.status == "running")
        .group_by(Experiment.id)
        .order_by(Experiment.id)
    )
    stale_after = timedelta(days=settings.alarms.stale_checkin_days)
    out: list[Finding] = []
    for experiment_id, title, started_at, last in (await session.execute(query)).all():
        last_sign = aware(last) if last is not None else aware(started_at)
        if now - last_sign < stale_after:
            continue
        days = (now - last_sign).days
        what = (
            f"has had no check-in since it started {plural(days, 'day')} ago"
            if last is None
            else f"has had no check-in for {plural(days, 'day')}"
        )
        out.append(
            Finding(
                KEY,
                f"experiment:{experiment_id}",
                f"Experiment #{experiment_id} “{title}” {what}.",
                last_sign + stale_after,
            )
        )
    return out


RULE = Rule(KEY, "no recent check-in", check, ("stale_checkin_days",))

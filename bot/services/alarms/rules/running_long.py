"""An experiment running for `running_weeks` without a conclusion."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.plural import plural
from bot.services.alarms.rule import Finding, Rule, aware
from bot.store.models import Experiment, Group

KEY = "running_long"


async def check(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    long_after = timedelta(weeks=settings.alarms.running_weeks)
    query = (
        select(Experiment.id, Experiment.title, Experiment.started_at)
        .where(
            Experiment.group_id == group.id,
            Experiment.status == "running",
            Experiment.started_at <= now - long_after,
        )
        .order_by(Experiment.id)
    )
    out: list[Finding] = []
    for experiment_id, title, started_at in (await session.execute(query)).all():
        started = aware(started_at)
        weeks = (now - started).days // 7
        out.append(
            Finding(
                KEY,
                f"experiment:{experiment_id}",
                f"Experiment #{experiment_id} “{title}” has been running for "
                f"{plural(weeks, 'week')} without a conclusion.",
                started + long_after,
            )
        )
    return out


RULE = Rule(KEY, "running long", check, ("running_weeks",))

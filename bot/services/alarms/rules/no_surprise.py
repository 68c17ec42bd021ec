"""No shared entry marked surprising for `surprise_weeks`: is the group only confirming what it
knew?"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain import Visibility
from bot.domain.plural import plural
from bot.services.alarms.rule import Finding, Rule, aware
from bot.store.models import CheckIn, Experiment, Group, Response, Round

KEY = "no_surprise"


async def check(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    limits = settings.alarms
    span = timedelta(weeks=limits.surprise_weeks)
    # The group's clock starts with its first experiment or round: a new group has not had the
    # time yet, and a group with nothing going on is not asked for surprises.
    first = [
        (await session.execute(q)).scalar_one_or_none()
        for q in (
            select(func.min(Experiment.started_at)).where(Experiment.group_id == group.id),
            select(func.min(Round.opened_at)).where(Round.group_id == group.id),
        )
    ]
    began = min([aware(t) for t in first if t is not None], default=None)
    if began is None or now - began < span:
        return []
    # Private entries are the author's alone: they do not count for or against the group.
    checkins = (
        select(func.max(CheckIn.created_at))
        .join(Experiment, CheckIn.experiment_id == Experiment.id)
        .where(
            Experiment.group_id == group.id,
            CheckIn.visibility != Visibility.PRIVATE.value,
            CheckIn.surprise >= limits.surprise_threshold,
        )
    )
    responses = (
        select(func.max(Response.created_at))
        .join(Round, Response.round_id == Round.id)
        .where(
            Round.group_id == group.id,
            Response.visibility != Visibility.PRIVATE.value,
            Response.surprise >= limits.surprise_threshold,
        )
    )
    times = [(await session.execute(q)).scalar_one_or_none() for q in (checkins, responses)]
    latest = max([began, *(aware(t) for t in times if t is not None)])
    if now - latest < span:
        return []
    return [
        Finding(
            KEY,
            f"group:{group.id}",
            f"No entry in the last {plural(limits.surprise_weeks, 'week')} was marked surprising "
            f"({limits.surprise_threshold} or more): are we only confirming what we knew?",
            latest + span,
        )
    ]


RULE = Rule(KEY, "no surprises", check, ("surprise_weeks", "surprise_threshold"))

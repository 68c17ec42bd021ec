"""Reading alarms and acting on them: list, acknowledge, resolve, describe."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound, UserError
from bot.services import scope
from bot.services.alarms.rules import title
from bot.services.alarms.states import ACKNOWLEDGED, OPEN_STATES, RAISED, RESOLVED
from bot.services.scope import Here
from bot.store.models import Alarm


async def open_alarms(session: AsyncSession, group_id: int) -> list[Alarm]:
    query = (
        select(Alarm)
        .where(Alarm.group_id == group_id, Alarm.state.in_(OPEN_STATES))
        .order_by(Alarm.id)
    )
    return list((await session.execute(query)).scalars())


async def alarms_for_digest(
    session: AsyncSession, group_id: int, start: datetime, end: datetime
) -> list[Alarm]:
    """Open alarms, and those raised in [start, end) even if resolved since."""
    query = (
        select(Alarm)
        .where(
            Alarm.group_id == group_id,
            or_(
                Alarm.state.in_(OPEN_STATES),
                (Alarm.raised_at >= start) & (Alarm.raised_at < end),
            ),
            Alarm.raised_at < end,
        )
        .order_by(Alarm.id)
    )
    return list((await session.execute(query)).scalars())


async def get_alarm(session: AsyncSession, alarm_id: int, where: Here) -> Alarm:
    """An alarm by the id someone typed: in a channel, one of its group's; in a DM (where the
    alarm's buttons arrive), one of a group with a channel in the same workspace."""
    alarm = await session.get(Alarm, alarm_id)
    if alarm is not None and (
        where.in_group(alarm.group_id)
        or (where.is_dm and await scope.group_in_workspace(session, alarm.group_id, where))
    ):
        return alarm
    raise NotFound(f"There is no alarm #{alarm_id} here. `alarms` lists the open ones.")


async def acknowledge(
    session: AsyncSession, alarm_id: int, member_id: int, now: datetime, where: Here
) -> Alarm:
    alarm = await get_alarm(session, alarm_id, where)
    if alarm.state == RESOLVED:
        raise UserError(f"Alarm #{alarm_id} is already resolved.")
    if alarm.state == RAISED:
        alarm.state, alarm.acked_by, alarm.acked_at = ACKNOWLEDGED, member_id, now
    return alarm


async def resolve(
    session: AsyncSession, alarm_id: int, member_id: int, now: datetime, where: Here
) -> Alarm:
    alarm = await get_alarm(session, alarm_id, where)
    if alarm.state == RESOLVED:
        raise UserError(f"Alarm #{alarm_id} is already resolved.")
    if alarm.acked_by is None:
        alarm.acked_by, alarm.acked_at = member_id, now
    alarm.state, alarm.resolved_at = RESOLVED, now
    return alarm


def describe(alarm: Alarm, timezone: str) -> str:
    """One line for lists and digests: id, rule, detail, state and date."""
    when = alarm.raised_at.astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%Y-%m-%d")
    state = f"raised {when}" if alarm.state == RAISED else f"{alarm.state}; raised {when}"
    return f"#{alarm.id} {title(alarm.rule)}: {alarm.detail} ({state})"

"""Run the rules: raise what fires, resolve what cleared, DM facilitators about what is new.

At most one open alarm per (group, rule, subject): a partial unique index enforces it, so a
repeated or concurrent evaluation never duplicates one. A person's `resolve` holds until the
condition starts anew: every finding carries the moment its condition began (`since`), and a
finding that began before the last resolve stays quiet."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services.alarms.notify import notify_facilitators
from bot.services.alarms.records import open_alarms
from bot.services.alarms.rule import Finding, aware
from bot.services.alarms.rules import RULES
from bot.services.alarms.states import RAISED, RESOLVED
from bot.services.context import Deps
from bot.store.models import Alarm, Group

log = logging.getLogger(__name__)


async def findings(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    """Every rule's current findings for the group."""
    out: list[Finding] = []
    for rule in RULES:
        out.extend(await rule.check(session, settings, group, now))
    return out


async def insert_open(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert an open alarm unless one is open for the same (group, rule, subject)."""
    table: Any = Alarm.__table__
    where = text("state != 'resolved'")
    keys = ["group_id", "rule", "subject"]
    stmt: Any
    if session.get_bind().dialect.name == "postgresql":
        stmt = postgresql.insert(table).values(**values)
    else:
        stmt = sqlite.insert(table).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=keys, index_where=where)
    row = (await session.execute(stmt.returning(table.c.id))).first()
    return None if row is None else int(row[0])


async def evaluate_group(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Alarm]:
    """Raise what fires, resolve what cleared, queue DMs for what is new. Returns the new ones."""
    found = {(f.rule, f.subject): f for f in await findings(session, settings, group, now)}
    open_rows = await open_alarms(session, group.id)
    for alarm in open_rows:
        finding = found.get((alarm.rule, alarm.subject))
        if finding is None:
            alarm.state, alarm.resolved_at = RESOLVED, now
        elif alarm.detail != finding.detail:
            alarm.detail = finding.detail
    await session.flush()
    already = {(a.rule, a.subject) for a in open_rows}
    raised: list[Alarm] = []
    for key, finding in found.items():
        if key in already or await _resolved_since(session, group.id, finding):
            continue
        alarm_id = await insert_open(
            session,
            {
                "group_id": group.id,
                "rule": finding.rule,
                "subject": finding.subject,
                "detail": finding.detail,
                "state": RAISED,
                "raised_at": now,
            },
        )
        if alarm_id is not None:
            new = await session.get(Alarm, alarm_id)
            assert new is not None
            raised.append(new)
    if raised:
        await notify_facilitators(session, settings, group, raised)
    return raised


async def _resolved_since(session: AsyncSession, group_id: int, finding: Finding) -> bool:
    """True when someone (or the bot) resolved this alarm after its condition began."""
    last = (
        await session.execute(
            select(func.max(Alarm.resolved_at)).where(
                Alarm.group_id == group_id,
                Alarm.rule == finding.rule,
                Alarm.subject == finding.subject,
                Alarm.state == RESOLVED,
            )
        )
    ).scalar_one_or_none()
    return last is not None and aware(last) >= finding.since


async def evaluate(deps: Deps, group_id: int) -> list[Alarm]:
    """Evaluate one group now (scheduler and `alarms`); returns the newly raised alarms."""
    async with deps.db.begin() as session:
        group = await session.get(Group, group_id)
        if group is None:
            return []
        raised = await evaluate_group(session, deps.settings, group, deps.clock())
    if raised:
        deps.notify_outbox()
    return raised


async def evaluate_all(deps: Deps) -> list[Alarm]:
    """The daily pass: every group in its own transaction, so one failure stops no other."""
    async with deps.db.begin() as session:
        group_ids = list((await session.execute(select(Group.id).order_by(Group.id))).scalars())
    raised: list[Alarm] = []
    for group_id in group_ids:
        try:
            raised.extend(await evaluate(deps, group_id))
        except Exception:
            log.exception("alarm evaluation failed for group %s", group_id)
    return raised

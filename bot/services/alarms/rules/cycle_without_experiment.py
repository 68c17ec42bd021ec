"""A cycle with no experiment in it or in any cycle below it, past the grace a new one gets."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.services.alarms.rule import Finding, Rule
from bot.store.models import Cycle, Experiment, Group

KEY = "cycle_without_experiment"


async def check(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    # A new cycle gets the same grace as a new experiment before it is called empty.
    grace = timedelta(days=settings.alarms.stale_checkin_days)
    everything = (await session.execute(select(Cycle.id, Cycle.parent_id))).all()
    children: dict[int, list[int]] = {}
    for cid, parent in everything:
        if parent is not None:
            children.setdefault(parent, []).append(cid)
    with_experiments = set(
        (
            await session.execute(
                select(Experiment.cycle_id).where(Experiment.cycle_id.is_not(None)).distinct()
            )
        ).scalars()
    )
    own = (
        await session.execute(select(Cycle).where(Cycle.group_id == group.id).order_by(Cycle.id))
    ).scalars()
    out = []
    for cycle in own:
        if now - cycle.created_at < grace:
            continue
        tree, stack = {cycle.id}, [cycle.id]
        while stack:  # experiments in a child cycle count for the parent
            for child in children.get(stack.pop(), []):
                if child not in tree:
                    tree.add(child)
                    stack.append(child)
        if tree & with_experiments:
            continue
        out.append(
            Finding(
                KEY,
                f"cycle:{cycle.id}",
                f"Cycle #{cycle.id} “{cycle.name}” has no experiment yet: what could we try?",
                cycle.created_at + grace,
            )
        )
    return out


RULE = Rule(KEY, "cycle without experiment", check, ("stale_checkin_days",))

"""Learning cycles at several system scales, connected parent to child."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.errors import NotFound, UserError
from bot.store.models import Cycle, Experiment, Group

SCALES = ("person", "team", "organisation", "place", "country")


@dataclass(frozen=True)
class CycleNode:
    cycle: Cycle
    depth: int
    experiments: int


async def get_cycle(session: AsyncSession, cycle_id: int) -> Cycle:
    cycle = await session.get(Cycle, cycle_id)
    if cycle is None:
        raise NotFound(f"There is no cycle #{cycle_id}. `cycle list` shows the ids.")
    return cycle


async def create_cycle(
    session: AsyncSession,
    group: Group,
    *,
    name: str,
    question: str,
    scale: str,
    parent_id: int | None,
    created_by: int | None,
) -> Cycle:
    if scale not in SCALES:
        raise UserError(f"scale must be one of: {', '.join(SCALES)}.")
    if parent_id is not None:
        await get_cycle(session, parent_id)  # a parent may belong to another group: cycles connect
    cycle = Cycle(
        group_id=group.id,
        name=name,
        question=question,
        scale=scale,
        parent_id=parent_id,
        created_by=created_by,
    )
    session.add(cycle)
    await session.flush()
    return cycle


async def cycle_tree(session: AsyncSession, group: Group) -> list[CycleNode]:
    """The group's cycles and every cycle connected to them, parents before children."""
    cycles = list((await session.execute(select(Cycle).order_by(Cycle.id))).scalars())
    by_parent: dict[int | None, list[Cycle]] = {}
    for c in cycles:
        by_parent.setdefault(c.parent_id, []).append(c)
    counts: dict[int, int] = {}
    for cycle_id in (await session.execute(select(Experiment.cycle_id))).scalars():
        if cycle_id is not None:
            counts[cycle_id] = counts.get(cycle_id, 0) + 1
    ids = {c.id for c in cycles}
    mine = {c.id for c in cycles if c.group_id == group.id}
    # Roots: cycles with no parent (or a parent that no longer exists).
    roots = [c for c in cycles if c.parent_id is None or c.parent_id not in ids]
    out: list[CycleNode] = []

    def walk(cycle: Cycle, depth: int) -> list[CycleNode]:
        nodes = [CycleNode(cycle, depth, counts.get(cycle.id, 0))]
        for child in by_parent.get(cycle.id, []):
            nodes.extend(walk(child, depth + 1))
        return nodes

    for root in roots:
        subtree = walk(root, 0)
        if any(node.cycle.id in mine for node in subtree):
            out.extend(subtree)
    return out


async def descendants(session: AsyncSession, cycle_id: int) -> list[int]:
    """Ids of every cycle below `cycle_id`, for digests that roll child cycles up."""
    rows = (await session.execute(select(Cycle.id, Cycle.parent_id))).all()
    children: dict[int, list[int]] = {}
    for cid, parent in rows:
        if parent is not None:
            children.setdefault(parent, []).append(cid)
    out: list[int] = []
    stack = list(children.get(cycle_id, []))
    while stack:
        cid = stack.pop()
        out.append(cid)
        stack.extend(children.get(cid, []))
    return out

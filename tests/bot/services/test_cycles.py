from __future__ import annotations

import pytest

from bot.errors import NotFound, UserError
from bot.services import cycles, groups
from bot.store.database import Database
from tests.support.chat import CHANNEL, OTHER


async def test_tree_across_scales_and_groups(db: Database) -> None:
    async with db.begin() as s:
        g1 = await groups.ensure_group(s, CHANNEL, name="a", timezone="UTC")
        g2 = await groups.ensure_group(s, OTHER, name="b", timezone="UTC")
        place = await cycles.create_cycle(
            s, g1, name="Place", question="q?", scale="place", parent_id=None, created_by=None
        )
        team = await cycles.create_cycle(
            s, g2, name="Team", question="q2?", scale="team", parent_id=place.id, created_by=None
        )
        await cycles.create_cycle(
            s, g2, name="Lonely", question="q3?", scale="person", parent_id=None, created_by=None
        )
    async with db.begin() as s:
        g1 = await groups.require_group(s, CHANNEL)
        tree = await cycles.cycle_tree(s, g1)
        assert [(n.cycle.name, n.depth) for n in tree] == [("Place", 0), ("Team", 1)]
        assert await cycles.descendants(s, place.id) == [team.id]


async def test_bad_scale_and_parent(db: Database) -> None:
    async with db.begin() as s:
        g = await groups.ensure_group(s, CHANNEL, name="a", timezone="UTC")
        with pytest.raises(UserError, match="scale must be one of"):
            await cycles.create_cycle(
                s, g, name="x", question="y", scale="galaxy", parent_id=None, created_by=None
            )
        with pytest.raises(NotFound, match="no cycle #99"):
            await cycles.create_cycle(
                s, g, name="x", question="y", scale="team", parent_id=99, created_by=None
            )


async def test_first_use_creates_group_once(db: Database) -> None:
    async with db.begin() as s:
        a = await groups.ensure_group(s, CHANNEL, name="a", timezone="UTC")
    async with db.begin() as s:
        b = await groups.ensure_group(s, CHANNEL, name="a", timezone="UTC")
    assert a.id == b.id

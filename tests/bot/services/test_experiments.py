from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain import Role
from bot.errors import NotFound, PermissionDenied, UserError
from bot.services import checkins, cycles, experiments, groups, members
from bot.store.database import Database
from bot.store.models import Experiment, Group
from tests.support.chat import ADA, BEA, HERE, THERE

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _setup(db: Database) -> tuple[int, int, int, int]:
    """Two groups and two members: (here, there, ada, bea) ids."""
    async with db.begin() as s:
        here = await groups.ensure_group(s, HERE, name="here", timezone="UTC")
        there = await groups.ensure_group(s, THERE, name="there", timezone="UTC")
        ada = await members.ensure_member(s, ADA)
        bea = await members.ensure_member(s, BEA)
        return here.id, there.id, ada.id, bea.id


async def _new(db: Database, group_id: int, owner: int | None, title: str = "Cardio") -> int:
    async with db.begin() as s:
        group = await s.get(Group, group_id)
        assert group is not None
        e = await experiments.create_experiment(
            s,
            group,
            title=title,
            hypothesis="People act on results they produced",
            try_="Run the cardiogram first",
            expect="Faster decisions",
            cycle_id=None,
            owner_id=owner,
            now=NOW,
        )
        return e.id


async def _checkin(db: Database, exp_id: int, member_id: int, visibility: str = "group") -> int:
    async with db.begin() as s:
        e = await experiments.get_experiment(s, exp_id)
        data = checkins.CheckInData(happened="it went", visibility=visibility)
        c, _ = await checkins.record(s, e, member_id, data, source_key=None, now=NOW)
        return c.id


async def test_create_links_an_existing_cycle_and_refuses_a_missing_one(db: Database) -> None:
    here, _, ada, _ = await _setup(db)
    async with db.begin() as s:
        group = await s.get(Group, here)
        assert group is not None
        cycle = await cycles.create_cycle(
            s, group, name="C", question="q?", scale="team", parent_id=None, created_by=ada
        )
        e = await experiments.create_experiment(
            s,
            group,
            title="T",
            hypothesis="H",
            try_="X",
            expect="E",
            cycle_id=cycle.id,
            owner_id=ada,
            now=NOW,
        )
        assert (e.status, e.cycle_id, e.started_at) == ("running", cycle.id, NOW)
        with pytest.raises(NotFound, match="no cycle #999"):
            await experiments.create_experiment(
                s,
                group,
                title="T",
                hypothesis="H",
                try_="X",
                expect="E",
                cycle_id=999,
                owner_id=ada,
                now=NOW,
            )


async def test_lists_count_only_the_checkins_the_viewer_may_see(db: Database) -> None:
    here, there, ada, bea = await _setup(db)
    exp = await _new(db, here, ada)
    await _new(db, there, ada, title="Elsewhere")
    for visibility in ("group", "facilitators", "private"):
        await _checkin(db, exp, ada, visibility)
    await _checkin(db, exp, bea, "private")
    async with db.begin() as s:
        as_bea = await experiments.list_group(s, here, viewer_id=bea, viewer_role=Role.MEMBER)
        as_fac = await experiments.list_group(s, here, viewer_id=bea, viewer_role=Role.FACILITATOR)
        as_ada = await experiments.list_group(s, here, viewer_id=ada, viewer_role=Role.MEMBER)
        owned = await experiments.list_owned(s, ada, viewer_role=Role.MEMBER)
    assert [r.checkins for r in as_bea] == [2]  # the group one and her own private one
    assert [r.checkins for r in as_fac] == [3]
    assert [r.checkins for r in as_ada] == [3]
    assert as_ada[0].owner_name == "Ada"
    assert sorted((r.experiment.title, r.group_name) for r in owned) == [
        ("Cardio", "here"),
        ("Elsewhere", "there"),
    ]


async def test_conclude_by_owner_or_facilitator_once(db: Database) -> None:
    here, _, ada, bea = await _setup(db)
    exp = await _new(db, here, ada)
    async with db.begin() as s:
        with pytest.raises(PermissionDenied, match="owner of experiment"):
            await experiments.conclude(
                s, exp, member_id=bea, role=Role.MEMBER, learned="x", verdict="weaker", now=NOW
            )
        with pytest.raises(UserError, match="verdict must be one of"):
            await experiments.conclude(
                s, exp, member_id=ada, role=Role.MEMBER, learned="x", verdict="maybe", now=NOW
            )
    async with db.begin() as s:
        done = await experiments.conclude(
            s, exp, member_id=bea, role=Role.FACILITATOR, learned="L", verdict="stronger", now=NOW
        )
        assert (done.status, done.verdict, done.learned, done.concluded_at) == (
            "concluded",
            "stronger",
            "L",
            NOW,
        )
    async with db.begin() as s:
        with pytest.raises(UserError, match="already concluded"):
            await experiments.conclude(
                s, exp, member_id=ada, role=Role.MEMBER, learned="y", verdict="weaker", now=NOW
            )
        e = await experiments.get_experiment(s, exp)
        assert e.learned == "L"
        with pytest.raises(UserError, match="only running experiments"):
            experiments.require_running(e)


async def test_adopt_copies_from_another_group_once(db: Database) -> None:
    here, there, ada, bea = await _setup(db)
    original = await _new(db, there, ada)
    async with db.begin() as s:
        group = await s.get(Group, here)
        assert group is not None
        src, copy = await experiments.adopt(s, original, group, member_id=bea, now=NOW)
        assert src.id == original
        assert (copy.group_id, copy.owner_id, copy.adopted_from_id, copy.status) == (
            here,
            bea,
            original,
            "running",
        )
        assert (copy.title, copy.hypothesis, copy.try_) == (src.title, src.hypothesis, src.try_)
        copy_id = copy.id
    async with db.begin() as s:
        group = await s.get(Group, here)
        there_group = await s.get(Group, there)
        assert group is not None and there_group is not None
        with pytest.raises(UserError, match=f"runs here as #{copy_id}"):
            await experiments.adopt(s, original, group, member_id=ada, now=NOW)
        with pytest.raises(UserError, match="already belongs to this group"):
            await experiments.adopt(s, copy_id, group, member_id=ada, now=NOW)
        # Adopting the copy back into the original's group is adopting its own experiment.
        with pytest.raises(UserError, match="this group's own"):
            await experiments.adopt(s, copy_id, there_group, member_id=ada, now=NOW)
        with pytest.raises(NotFound):
            await experiments.adopt(s, 4040, group, member_id=ada, now=NOW)


async def test_running_choices(db: Database) -> None:
    here, there, ada, bea = await _setup(db)
    mine = await _new(db, here, ada)
    hers = await _new(db, here, bea)
    elsewhere = await _new(db, there, ada)
    async with db.begin() as s:
        theirs, offered = await experiments.running_choices(s, here, ada)
        assert [e.id for e in theirs] == [mine]
        assert [e.id for e in offered] == [mine, hers]
        theirs, offered = await experiments.running_choices(s, None, ada)
        assert [e.id for e in theirs] == [e.id for e in offered] == [mine, elsewhere]
    await _checkin(db, hers, ada)
    async with db.begin() as s:
        theirs, _ = await experiments.running_choices(s, here, ada)
        assert [e.id for e in theirs] == [mine, hers]
        e = await s.get(Experiment, mine)
        assert e is not None
        e.status = "concluded"
    async with db.begin() as s:
        theirs, offered = await experiments.running_choices(s, here, ada)
        assert [e.id for e in offered] == [hers]

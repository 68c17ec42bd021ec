from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import load_settings
from bot.domain import ChannelRef, Platform
from bot.errors import NotFound, UserError
from bot.services import alarms
from bot.services.context import Deps
from bot.services.scope import Here
from bot.store.models import Alarm, Delivery, Group, Member
from tests.support import world
from tests.support.clock import Clock

A = ChannelRef(Platform.CONSOLE, "console", "a")
B = ChannelRef(Platform.CONSOLE, "console", "b")


def here(member: Member, group: Group | None) -> Here:
    """In the group's channel, or in the member's DM when `group` is None."""
    return Here(member.id, "console", "console", is_dm=group is None, group_id=group and group.id)


async def fired(deps: Deps, group: Group, rule: str) -> set[str]:
    """The subjects `rule` finds in `group` now."""
    async with deps.db.begin() as s:
        fresh = await s.get(Group, group.id)
        assert fresh is not None
        found = await alarms.findings(s, deps.settings, fresh, deps.clock())
    return {f.subject for f in found if f.rule == rule}


async def test_stale_checkin(deps: Deps, clock: Clock) -> None:
    now = clock()
    async with deps.db.begin() as s:
        g = await world.group(s, A)
        ada = await world.member(s, "u1", "Ada")
        old = now - timedelta(days=20)
        quiet_since = await world.experiment(s, g, "Quiet", started_at=old)
        await world.checkin(s, quiet_since, ada, "x", at=now - timedelta(days=11))
        never = await world.experiment(s, g, "Never", started_at=now - timedelta(days=12))
        fresh = await world.experiment(s, g, "Fresh", started_at=old)
        await world.checkin(s, fresh, ada, "x", at=now - timedelta(days=2))
        private = await world.experiment(s, g, "Private", started_at=old)
        await world.checkin(s, private, ada, "x", at=now - timedelta(days=1), visibility="private")
        await world.experiment(s, g, "New", started_at=now - timedelta(days=3))
        await world.experiment(
            s, g, "Done", started_at=old, status="concluded", concluded_at=old, verdict="weaker"
        )
    assert await fired(deps, g, alarms.STALE_CHECKIN) == {
        f"experiment:{quiet_since.id}",
        f"experiment:{never.id}",
    }
    async with deps.db.begin() as s:
        found = await alarms.findings(s, deps.settings, g, now)
    details = sorted(f.detail for f in found if f.rule == alarms.STALE_CHECKIN)
    assert details == [
        f"Experiment #{quiet_since.id} “Quiet” has had no check-in for 11 days.",
        f"Experiment #{never.id} “Never” has had no check-in since it started 12 days ago.",
    ]


async def test_running_long(deps: Deps, clock: Clock) -> None:
    now = clock()
    async with deps.db.begin() as s:
        g = await world.group(s, A)
        ada = await world.member(s, "u1", "Ada")
        long = await world.experiment(s, g, "Long", started_at=now - timedelta(weeks=9))
        await world.checkin(s, long, ada, "x", at=now - timedelta(days=1))
        short = await world.experiment(s, g, "Short", started_at=now - timedelta(weeks=7))
        await world.checkin(s, short, ada, "x", at=now - timedelta(days=1))
    assert await fired(deps, g, alarms.RUNNING_LONG) == {f"experiment:{long.id}"}


async def test_low_participation(deps: Deps, clock: Clock) -> None:
    now = clock()
    async with deps.db.begin() as s:
        g = await world.group(s, A)
        people = [await world.member(s, f"u{i}", f"P{i}") for i in range(4)]
        ago = now - timedelta(days=2)

        async def closed(answers: int, when: datetime = ago) -> int:
            r = await world.round_(
                s,
                g,
                opened_at=when - timedelta(days=3),
                closes_at=when,
                closed_at=when,
                recipients=people,
            )
            for p in people[:answers]:
                await world.response(s, r, p, "answer", at=when - timedelta(hours=1))
                await world.response(s, r, p, "more", at=when, prompt_key="noticed")
            return r.id

        low = await closed(1)
        await closed(2)  # 50% is not below 50%
        await closed(0, now - timedelta(days=20))  # long ago: no longer counts
        await world.round_(
            s, g, opened_at=ago, closes_at=now + timedelta(days=1), recipients=people
        )
    assert await fired(deps, g, alarms.LOW_PARTICIPATION) == {f"round:{low}"}
    async with deps.db.begin() as s:
        found = await alarms.findings(s, deps.settings, g, now)
    [low_one] = [f for f in found if f.rule == alarms.LOW_PARTICIPATION]
    assert "closed with 1 of 4 people answering (25%, below 50%)" in low_one.detail


async def test_no_surprise(deps: Deps, clock: Clock) -> None:
    now = clock()
    async with deps.db.begin() as s:
        flat = await world.group(s, A)
        lively = await world.group(s, B, name="Lively")
        young = await world.group(s, ChannelRef(Platform.CONSOLE, "console", "c"), name="Young")
        ada = await world.member(s, "u1", "Ada")
        for g in (flat, lively):
            e = await world.experiment(s, g, "E", started_at=now - timedelta(weeks=5))
            await world.checkin(s, e, ada, "as expected", at=now - timedelta(days=3), surprise=40)
        hidden = await world.experiment(s, flat, "Hidden", started_at=now - timedelta(weeks=5))
        # A private entry is its author's alone: it does not count for the group.
        await world.checkin(
            s, hidden, ada, "wow", at=now - timedelta(days=2), surprise=95, visibility="private"
        )
        e2 = await world.experiment(s, lively, "E2", started_at=now - timedelta(weeks=5))
        await world.checkin(s, e2, ada, "wow", at=now - timedelta(weeks=2), surprise=75)
        e3 = await world.experiment(s, young, "E3", started_at=now - timedelta(weeks=2))
        await world.checkin(s, e3, ada, "meh", at=now - timedelta(days=1), surprise=10)
    assert await fired(deps, flat, alarms.NO_SURPRISE) == {f"group:{flat.id}"}
    assert await fired(deps, lively, alarms.NO_SURPRISE) == set()
    assert await fired(deps, young, alarms.NO_SURPRISE) == set()


async def test_cycle_without_experiment(deps: Deps, clock: Clock) -> None:
    now = clock()
    async with deps.db.begin() as s:
        g = await world.group(s, A)
        other = await world.group(s, B, name="Other")
        old = now - timedelta(days=20)
        empty = await world.cycle(s, g, "Empty", created_at=old)
        parent = await world.cycle(s, g, "Parent", scale="place", created_at=old)
        child = await world.cycle(s, other, "Child", parent_id=parent.id, created_at=old)
        await world.experiment(s, other, "In child", started_at=now, cycle_id=child.id)
        await world.cycle(s, g, "Brand new", created_at=now - timedelta(days=2))
    assert await fired(deps, g, alarms.CYCLE_WITHOUT_EXPERIMENT) == {f"cycle:{empty.id}"}


async def test_dominant_voice(deps: Deps, clock: Clock) -> None:
    now = clock()
    async with deps.db.begin() as s:
        loud = await world.group(s, A)
        even = await world.group(s, B, name="Even")
        few = await world.group(s, ChannelRef(Platform.CONSOLE, "console", "c"), name="Few")
        ada = await world.member(s, "u1", "Ada")
        bea = await world.member(s, "u2", "Bea")
        at = now - timedelta(days=1)
        for g, by_ada, by_bea in ((loud, 4, 1), (even, 3, 2), (few, 4, 0)):
            e = await world.experiment(s, g, "E", started_at=now - timedelta(days=5))
            for _ in range(by_ada):
                await world.checkin(s, e, ada, "x", at=at)
            for _ in range(by_bea):
                await world.checkin(s, e, bea, "x", at=at)
            # Old check-ins fall outside the window.
            for _ in range(5):
                await world.checkin(s, e, bea, "x", at=now - timedelta(days=40))
    assert await fired(deps, loud, alarms.DOMINANT_VOICE) == {f"group:{loud.id}"}
    assert await fired(deps, even, alarms.DOMINANT_VOICE) == set()
    assert await fired(deps, few, alarms.DOMINANT_VOICE) == set()
    async with deps.db.begin() as s:
        found = await alarms.findings(s, deps.settings, loud, now)
    [dominant] = [f for f in found if f.rule == alarms.DOMINANT_VOICE]
    assert dominant.detail.startswith("One person wrote 4 of the 5 check-ins")
    assert "Ada" not in dominant.detail


async def setup_people(deps: Deps, tmp_path: Path) -> tuple[Group, dict[str, int]]:
    deps.settings = load_settings(
        env={"CYCLES_DATA_DIR": str(tmp_path), "CYCLES_BOT__FACILITATORS": "slack:U9"}
    )
    async with deps.db.begin() as s:
        g = await world.group(s, A)
        ids = {
            "fay": (await world.member(s, "u1", "Fay", role="facilitator")).id,
            "root": (await world.member(s, "u2", "Root", role="admin")).id,
            "mem": (await world.member(s, "u3", "Mem")).id,
            "lea": (await world.member(s, "u4", "Lea", role="leader")).id,
            "away": (
                await world.member(s, "u5", "Away", role="facilitator", workspace="other-ws")
            ).id,
            "cfg": (
                await world.member(s, "U9", "Configured", platform=Platform.SLACK, workspace="T1")
            ).id,
        }
    return g, ids


async def dms(deps: Deps) -> list[tuple[str, int | None, str]]:
    async with deps.db.begin() as s:
        rows = (await s.execute(select(Delivery).order_by(Delivery.id))).scalars()
        return [(d.key, d.member_id, d.target_kind) for d in rows]


async def test_evaluate_raises_once_dms_facilitators_and_resolves(
    deps: Deps, clock: Clock, tmp_path: Path
) -> None:
    g, ids = await setup_people(deps, tmp_path)
    async with deps.db.begin() as s:
        e = await world.experiment(s, g, "Quiet", started_at=clock() - timedelta(days=11))
    raised = await alarms.evaluate(deps, g.id)
    assert [(a.rule, a.subject, a.state) for a in raised] == [
        (alarms.STALE_CHECKIN, f"experiment:{e.id}", "raised")
    ]
    alarm_id = raised[0].id
    expected = sorted(
        (f"alarm:{alarm_id}:{ids[who]}", ids[who], "dm") for who in ("fay", "root", "cfg")
    )
    assert sorted(await dms(deps)) == expected
    async with deps.db.begin() as s:
        payload = (await s.execute(select(Delivery.payload))).scalars().first()
    assert payload is not None and payload["text"].startswith(f"Alarm #{alarm_id} in Frontline")
    assert payload["buttons"][0]["command"] == f"alarms ack {alarm_id}"

    clock.advance(days=1)
    assert await alarms.evaluate(deps, g.id) == []  # still open: no duplicate, no new DM
    assert len(await dms(deps)) == 3
    async with deps.db.begin() as s:
        rows = list((await s.execute(select(Alarm))).scalars())
    assert len(rows) == 1 and "12 days" in rows[0].detail  # the detail follows the facts

    async with deps.db.begin() as s:
        ada = await world.member(s, "u7", "Ada")
        await world.checkin(s, e, ada, "back on it", at=clock())
    assert await alarms.evaluate(deps, g.id) == []
    async with deps.db.begin() as s:
        row = await s.get(Alarm, alarm_id)
        assert row is not None and row.state == "resolved" and row.resolved_at == clock()

    clock.advance(days=11)  # stale again: a new alarm
    again = [a for a in await alarms.evaluate(deps, g.id) if a.rule == alarms.STALE_CHECKIN]
    assert len(again) == 1 and again[0].id != alarm_id
    assert len([k for k, _, _ in await dms(deps) if k.startswith(f"alarm:{again[0].id}:")]) == 3


async def test_a_resolve_by_hand_holds_until_the_condition_starts_anew(
    deps: Deps, clock: Clock
) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s, A)
        fay = await world.member(s, "u1", "Fay", role="facilitator")
        e = await world.experiment(s, g, "Quiet", started_at=clock() - timedelta(days=11))
    [alarm] = await alarms.evaluate(deps, g.id)
    async with deps.db.begin() as s:
        acked = await alarms.acknowledge(s, alarm.id, fay.id, clock(), here(fay, g))
        assert acked.state == "acknowledged" and acked.acked_by == fay.id
    assert await alarms.evaluate(deps, g.id) == []  # acknowledged is still open
    async with deps.db.begin() as s:
        await alarms.resolve(s, alarm.id, fay.id, clock(), here(fay, g))
    clock.advance(days=2)
    assert await alarms.evaluate(deps, g.id) == []  # still stale, but someone resolved it
    async with deps.db.begin() as s:
        await world.checkin(s, e, fay, "news", at=clock())
    clock.advance(days=10)
    assert alarms.STALE_CHECKIN in {a.rule for a in await alarms.evaluate(deps, g.id)}


async def test_ack_and_resolve_refusals(deps: Deps, clock: Clock) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s, A)
        other = await world.group(s, B, name="Other")
        fay = await world.member(s, "u1", "Fay", role="facilitator")
        await world.experiment(s, g, "Quiet", started_at=clock() - timedelta(days=11))
    [alarm] = await alarms.evaluate(deps, g.id)
    async with deps.db.begin() as s:
        with pytest.raises(NotFound, match="no alarm #999"):
            await alarms.acknowledge(s, 999, fay.id, clock(), here(fay, g))
        with pytest.raises(NotFound, match="no alarm #1 here"):
            await alarms.resolve(s, alarm.id, fay.id, clock(), here(fay, other))
        await alarms.resolve(s, alarm.id, fay.id, clock(), here(fay, None))
    async with deps.db.begin() as s:
        with pytest.raises(UserError, match="already resolved"):
            await alarms.acknowledge(s, alarm.id, fay.id, clock(), here(fay, g))


async def test_one_open_alarm_per_rule_and_subject_in_the_database(deps: Deps) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s, A)
        values = {
            "group_id": g.id,
            "rule": alarms.STALE_CHECKIN,
            "subject": "experiment:1",
            "detail": "d",
            "state": "raised",
            "raised_at": deps.clock(),
        }
        first = await alarms._insert_open(s, values)
        assert first is not None
        assert await alarms._insert_open(s, values) is None
        row = await s.get(Alarm, first)
        assert row is not None
        row.state = "resolved"
        await s.flush()
        assert await alarms._insert_open(s, values) is not None


async def test_evaluate_all_and_the_digest_list(deps: Deps, clock: Clock) -> None:
    async with deps.db.begin() as s:
        g1 = await world.group(s, A)
        g2 = await world.group(s, B, name="Other")
        for g in (g1, g2):
            await world.experiment(s, g, "Quiet", started_at=clock() - timedelta(days=11))
    raised = await alarms.evaluate_all(deps)
    assert sorted(a.group_id for a in raised) == [g1.id, g2.id]
    assert await alarms.evaluate_all(deps) == []
    async with deps.db.begin() as s:
        listed = await alarms.alarms_for_digest(
            s, g1.id, clock() - timedelta(days=1), clock() + timedelta(days=1)
        )
        shown = alarms.describe(listed[0], "UTC")
    assert [a.group_id for a in listed] == [g1.id]
    assert shown.startswith(f"#{listed[0].id} no recent check-in: Experiment #")
    assert shown.endswith("(raised 2026-11-23)")

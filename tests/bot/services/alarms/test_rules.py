from __future__ import annotations

from datetime import datetime, timedelta

from bot.config import AlarmSettings
from bot.domain import ChannelRef, Platform
from bot.services import alarms
from bot.services.alarms.rules import title
from bot.services.context import Deps
from bot.store.models import Group
from tests.support import world
from tests.support.clock import Clock

A = ChannelRef(Platform.CONSOLE, "console", "a")
B = ChannelRef(Platform.CONSOLE, "console", "b")


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
    assert await fired(deps, g, "stale_checkin") == {
        f"experiment:{quiet_since.id}",
        f"experiment:{never.id}",
    }
    async with deps.db.begin() as s:
        found = await alarms.findings(s, deps.settings, g, now)
    details = sorted(f.detail for f in found if f.rule == "stale_checkin")
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
    assert await fired(deps, g, "running_long") == {f"experiment:{long.id}"}


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
    assert await fired(deps, g, "low_participation") == {f"round:{low}"}
    async with deps.db.begin() as s:
        found = await alarms.findings(s, deps.settings, g, now)
    [low_one] = [f for f in found if f.rule == "low_participation"]
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
    assert await fired(deps, flat, "no_surprise") == {f"group:{flat.id}"}
    assert await fired(deps, lively, "no_surprise") == set()
    assert await fired(deps, young, "no_surprise") == set()


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
    assert await fired(deps, g, "cycle_without_experiment") == {f"cycle:{empty.id}"}


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
    assert await fired(deps, loud, "dominant_voice") == {f"group:{loud.id}"}
    assert await fired(deps, even, "dominant_voice") == set()
    assert await fired(deps, few, "dominant_voice") == set()
    async with deps.db.begin() as s:
        found = await alarms.findings(s, deps.settings, loud, now)
    [dominant] = [f for f in found if f.rule == "dominant_voice"]
    assert dominant.detail.startswith("One person wrote 4 of the 5 check-ins")
    assert "Ada" not in dominant.detail


def test_every_rule_has_its_own_key_and_reads_settings_that_exist() -> None:
    keys = [rule.key for rule in alarms.RULES]
    assert len(keys) == len(set(keys))
    known = set(AlarmSettings.model_fields)
    for rule in alarms.RULES:
        assert rule.title and set(rule.settings) <= known, rule.key


def test_a_removed_rule_reads_as_its_key() -> None:
    assert title("stale_checkin") == "no recent check-in"
    assert title("retired_rule") == "retired_rule"

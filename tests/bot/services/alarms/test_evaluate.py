from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.config import load_settings
from bot.domain import ChannelRef, Platform
from bot.errors import NotFound, UserError
from bot.services import alarms
from bot.services.alarms.evaluate import insert_open
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
        ("stale_checkin", f"experiment:{e.id}", "raised")
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
    again = [a for a in await alarms.evaluate(deps, g.id) if a.rule == "stale_checkin"]
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
    assert "stale_checkin" in {a.rule for a in await alarms.evaluate(deps, g.id)}


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
            "rule": "stale_checkin",
            "subject": "experiment:1",
            "detail": "d",
            "state": "raised",
            "raised_at": deps.clock(),
        }
        first = await insert_open(s, values)
        assert first is not None
        assert await insert_open(s, values) is None
        row = await s.get(Alarm, first)
        assert row is not None
        row.state = "resolved"
        await s.flush()
        assert await insert_open(s, values) is not None


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

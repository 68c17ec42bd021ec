from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.config import load_settings
from bot.domain import Platform
from bot.services.context import Deps
from bot.services.digests.publish import publish_week, publish_weekly
from bot.store.models import Delivery, Digest, Group
from tests.bot.services.digests.scene import (
    MON,
    WEEK,
    build,
    count,
    scene,
)
from tests.support import world
from tests.support.clock import Clock


async def test_rebuild_updates_the_draft_and_publishing_twice_posts_once(
    deps: Deps, clock: Clock
) -> None:
    sc = await scene(deps)
    clock.now = MON + timedelta(days=4)
    first = await build(deps, sc.group.id)
    async with deps.db.begin() as s:
        bus = await s.get(Group, sc.group.id)
        ada = await world.member(s, "u1", "Ada Lovelace")
        from bot.store.models import Experiment

        exp = await s.get(Experiment, sc.ids["bus"])
        assert bus is not None and exp is not None
        await world.checkin(s, exp, ada, "One more bus story.", at=clock())
    second = await build(deps, sc.group.id)
    assert second.id == first.id and "16 check-ins" in second.text
    assert await count(deps, Digest) == 1

    for _ in range(2):
        async with deps.db.begin() as s:
            g = await s.get(Group, sc.group.id)
            assert g is not None
            posted, first_time = await publish_week(deps, s, g, WEEK)
    assert posted.state == "posted" and not first_time
    async with deps.db.begin() as s:
        keys = sorted((await s.execute(select(Delivery.key))).scalars())
    assert keys == [
        f"digest:{sc.group.id}:{WEEK}:group:console:learning",
        f"digest:{sc.group.id}:{WEEK}:group:slack:C1",
    ]
    async with deps.db.begin() as s:
        payload = (await s.execute(select(Delivery.payload))).scalars().first()
    assert payload is not None and payload["sections"][0]["title"] == "Momentum"

    async with deps.db.begin() as s:
        exp = await s.get(Experiment, sc.ids["bus"])
        assert exp is not None
        await world.checkin(s, exp, ada, "After posting.", at=clock())
    after = await build(deps, sc.group.id)
    assert after.text == posted.text  # what was posted stays as it was posted


async def test_publish_weekly_is_idempotent_and_reaches_leaders(
    deps: Deps, clock: Clock, tmp_path: Path
) -> None:
    deps.settings = load_settings(
        env={"CYCLES_DATA_DIR": str(tmp_path / "d"), "CYCLES_BOT__LEADERS": "slack:UL"}
    )
    notified: list[int] = []
    deps.notify_outbox = lambda: notified.append(1)
    async with deps.db.begin() as s:
        g = await world.group(s, timezone="Pacific/Auckland")
        lea = await world.member(s, "u9", "Lea", role="leader")
        cfg = await world.member(s, "UL", "Lead", platform=Platform.SLACK, workspace="T1")
        await world.member(s, "u8", "Far", role="leader", workspace="elsewhere")
        e = await world.experiment(s, g, "Doorstep", started_at=MON - timedelta(days=3))
        await world.checkin(s, e, lea, "The door opened quicker.", at=MON + timedelta(days=7))
    clock.now = datetime(2026, 11, 29, 12, tzinfo=UTC)  # Monday 01:00 in Auckland: W49
    digest = await publish_weekly(deps, g.id)
    again = await publish_weekly(deps, g.id)
    assert digest is not None and again is not None
    assert digest.week == "2026-W49" and again.id == digest.id and digest.state == "posted"
    async with deps.db.begin() as s:
        rows = list((await s.execute(select(Delivery).order_by(Delivery.key))).scalars())
    assert [(r.key, r.target_kind) for r in rows] == [
        (f"digest:{g.id}:2026-W49:group:console:learning", "channel"),
        (f"digest:{g.id}:2026-W49:leader:console:dm-u9", "dm"),
        (f"digest:{g.id}:2026-W49:leader:slack:dm-UL", "dm"),
    ]
    assert {r.member_id for r in rows if r.target_kind == "dm"} == {lea.id, cfg.id}
    assert rows[1].payload["text"].startswith("Leader digest · Frontline · 2026-W49")
    assert notified
    assert await publish_weekly(deps, 9999) is None

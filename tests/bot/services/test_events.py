from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from bot.services.events import EVENT_MEMORY, claim_event, forget_old_events
from bot.store.database import Database
from bot.store.models import ProcessedEvent

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


async def test_event_ids_older_than_a_week_are_swept_and_newer_ones_still_refuse_a_repeat(
    db: Database,
) -> None:
    async with db.begin() as session:
        for event_id in ("old", "recent"):
            assert await claim_event(session, "slack", event_id)
    async with db.begin() as session:
        await session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.event_id == "old")
            .values(created_at=NOW - EVENT_MEMORY - timedelta(minutes=1))
        )
        await session.execute(
            update(ProcessedEvent)
            .where(ProcessedEvent.event_id == "recent")
            .values(created_at=NOW - timedelta(hours=2))
        )
    assert await forget_old_events(db, NOW) == 1
    async with db.begin() as session:
        left = list((await session.execute(select(ProcessedEvent.event_id))).scalars())
        assert left == ["recent"]
        assert not await claim_event(session, "slack", "recent")

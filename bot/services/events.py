"""Processed platform event ids: claim one inside the use case's transaction; a repeat finds it.
Ids are kept for a week, then swept: platforms repeat an event within minutes or hours (Slack
retries for about an hour; a trigger id works once, for 30 minutes), so older ids only grow
the table."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.database import Database
from bot.store.models import ProcessedEvent
from bot.store.upsert import insert_ignore

EVENT_MEMORY = timedelta(days=7)
EVENT_SWEEP = timedelta(hours=1)


async def claim_event(session: AsyncSession, platform: str, event_id: str) -> bool:
    """True the first time `event_id` is seen on `platform`, False on every repeat."""
    return await insert_ignore(
        session,
        ProcessedEvent,
        {"platform": platform, "event_id": event_id},
        ["platform", "event_id"],
    )


async def forget_old_events(db: Database, now: datetime) -> int:
    """Deletes event ids claimed more than EVENT_MEMORY before `now`; returns how many."""
    async with db.begin() as session:
        result = await session.execute(
            delete(ProcessedEvent).where(ProcessedEvent.created_at < now - EVENT_MEMORY)
        )
        return int(getattr(result, "rowcount", 0) or 0)

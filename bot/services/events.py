"""Processed platform event ids: claim one inside the use case's transaction; a repeat finds it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import ProcessedEvent
from bot.store.upsert import insert_ignore


async def claim_event(session: AsyncSession, platform: str, event_id: str) -> bool:
    """True the first time `event_id` is seen on `platform`, False on every repeat."""
    return await insert_ignore(
        session,
        ProcessedEvent,
        {"platform": platform, "event_id": event_id},
        ["platform", "event_id"],
    )

"""Stored digests: one row per (group, week, variant), a draft until it is posted."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.digests.variants import GROUP
from bot.store.models import Digest

DRAFT, POSTED = "draft", "posted"


async def find_digest(
    session: AsyncSession, group_id: int, week: str, variant: str
) -> Digest | None:
    query = select(Digest).where(
        Digest.group_id == group_id, Digest.week == week, Digest.variant == variant
    )
    return (await session.execute(query)).scalar_one_or_none()


async def latest_posted(
    session: AsyncSession, group_id: int, week: str | None = None, variant: str = GROUP
) -> Digest | None:
    query = select(Digest).where(
        Digest.group_id == group_id, Digest.variant == variant, Digest.state == POSTED
    )
    if week is not None:
        query = query.where(Digest.week == week)
    query = query.order_by(Digest.week.desc()).limit(1)
    return (await session.execute(query)).scalar_one_or_none()

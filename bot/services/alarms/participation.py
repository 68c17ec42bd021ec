"""How many people a round asked and how many answered: counts only, never who. Read by the
low-participation rule and by digests."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.models import Response, RoundRecipient


async def round_participation(
    session: AsyncSession, round_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """round id -> (people asked, people who answered)."""
    if not round_ids:
        return {}
    asked = dict(
        (
            await session.execute(
                select(RoundRecipient.round_id, func.count(RoundRecipient.id))
                .where(RoundRecipient.round_id.in_(round_ids))
                .group_by(RoundRecipient.round_id)
            )
        ).all()
    )
    answered = dict(
        (
            await session.execute(
                select(Response.round_id, func.count(func.distinct(Response.member_id)))
                .where(Response.round_id.in_(round_ids))
                .group_by(Response.round_id)
            )
        ).all()
    )
    return {rid: (int(asked.get(rid, 0)), int(answered.get(rid, 0))) for rid in round_ids}

"""A round closed in the last two weeks with fewer than `min_participation` answering."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain.plural import plural
from bot.services.alarms.participation import round_participation
from bot.services.alarms.rule import Finding, Rule
from bot.store.models import Group, Round

KEY = "low_participation"
# A closed round counts for this long; its alarm then resolves on its own.
RECENT_ROUNDS = timedelta(days=14)


async def check(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    floor = settings.alarms.min_participation
    rounds = list(
        (
            await session.execute(
                select(Round)
                .where(
                    Round.group_id == group.id,
                    Round.state == "closed",
                    Round.closed_at >= now - RECENT_ROUNDS,
                )
                .order_by(Round.id)
            )
        ).scalars()
    )
    counts = await round_participation(session, [r.id for r in rounds])
    out = []
    for round_ in rounds:
        asked, answered = counts[round_.id]
        if asked == 0 or answered / asked >= floor:
            continue
        out.append(
            Finding(
                KEY,
                f"round:{round_.id}",
                f"Round #{round_.id} “{round_.title}” closed with {answered} of "
                f"{plural(asked, 'person', 'people')} "
                f"answering ({answered / asked:.0%}, below {floor:.0%}).",
                round_.closed_at or now,
            )
        )
    return out


RULE = Rule(KEY, "low round participation", check, ("min_participation",))

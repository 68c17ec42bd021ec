"""Rows for digest and alarm tests, written straight to the models: a group, its members,
experiments, check-ins, rounds and answers, each at a chosen time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Actor, ChannelRef, Platform
from bot.services import groups, members
from bot.store.models import (
    CheckIn,
    Cycle,
    Experiment,
    Group,
    Member,
    Response,
    Round,
    RoundRecipient,
)
from tests.support.chat import CHANNEL

PROMPTS = [
    {"key": "tried", "text": "What did you try this week?"},
    {"key": "noticed", "text": "What did you notice?"},
]


async def group(
    session: AsyncSession,
    channel: ChannelRef = CHANNEL,
    *,
    name: str = "Frontline",
    timezone: str = "UTC",
    created_at: datetime | None = None,
) -> Group:
    made = await groups.ensure_group(session, channel, name=name, timezone=timezone)
    made.name = name
    if created_at is not None:
        made.created_at = created_at
    await session.flush()
    return made


async def member(
    session: AsyncSession,
    user_id: str,
    name: str,
    *,
    role: str = "member",
    platform: Platform = Platform.CONSOLE,
    workspace: str = "console",
) -> Member:
    row = await members.ensure_member(session, Actor(platform, workspace, user_id, name))
    row.role = role
    await session.flush()
    return row


async def experiment(
    session: AsyncSession,
    owner: Group,
    title: str,
    *,
    started_at: datetime,
    hypothesis: str = "People respond to what they see.",
    status: str = "running",
    verdict: str | None = None,
    learned: str | None = None,
    concluded_at: datetime | None = None,
    cycle_id: int | None = None,
    adopted_from_id: int | None = None,
    owner_id: int | None = None,
) -> Experiment:
    row = Experiment(
        group_id=owner.id,
        cycle_id=cycle_id,
        owner_id=owner_id,
        adopted_from_id=adopted_from_id,
        title=title,
        hypothesis=hypothesis,
        try_="Try it.",
        expect="We expect change.",
        status=status,
        verdict=verdict,
        learned=learned,
        started_at=started_at,
        concluded_at=concluded_at,
    )
    session.add(row)
    await session.flush()
    return row


async def checkin(
    session: AsyncSession,
    on: Experiment,
    by: Member,
    happened: str,
    *,
    at: datetime,
    learned: str = "",
    surprise: int = 50,
    confidence: int = 50,
    visibility: str = "group",
    named: bool = False,
) -> CheckIn:
    row = CheckIn(
        experiment_id=on.id,
        member_id=by.id,
        happened=happened,
        learned=learned,
        next="",
        surprise=surprise,
        confidence=confidence,
        visibility=visibility,
        named=named,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    await session.flush()
    return row


async def round_(
    session: AsyncSession,
    owner: Group,
    *,
    opened_at: datetime,
    closes_at: datetime,
    closed_at: datetime | None = None,
    recipients: list[Member] = [],  # noqa: B006 - read only
    title: str = "Weekly reflection",
) -> Round:
    row = Round(
        group_id=owner.id,
        template_key="weekly-reflection",
        title=title,
        intro="",
        prompts=PROMPTS,
        platform="console",
        workspace="console",
        channel="learning",
        opened_at=opened_at,
        closes_at=closes_at,
        closed_at=closed_at,
        state="closed" if closed_at is not None else "open",
    )
    session.add(row)
    await session.flush()
    for person in recipients:
        session.add(RoundRecipient(round_id=row.id, member_id=person.id))
    await session.flush()
    return row


async def response(
    session: AsyncSession,
    to: Round,
    by: Member,
    text: str,
    *,
    at: datetime,
    prompt_key: str = "tried",
    surprise: int | None = None,
    visibility: str = "group",
    named: bool = False,
) -> Response:
    row = Response(
        round_id=to.id,
        member_id=by.id,
        prompt_key=prompt_key,
        text=text,
        surprise=surprise,
        visibility=visibility,
        named=named,
        created_at=at,
        updated_at=at,
    )
    session.add(row)
    await session.flush()
    return row


async def cycle(
    session: AsyncSession,
    owner: Group,
    name: str,
    *,
    scale: str = "team",
    parent_id: int | None = None,
    created_at: datetime | None = None,
    **extra: Any,
) -> Cycle:
    row = Cycle(
        group_id=owner.id,
        name=name,
        question=extra.get("question", f"What helps {name}?"),
        scale=scale,
        parent_id=parent_id,
    )
    if created_at is not None:
        row.created_at = created_at
    session.add(row)
    await session.flush()
    return row

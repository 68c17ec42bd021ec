"""The delivery outbox: every outgoing message is a row first, then sent.

`key` is the natural key of a delivery ("round:12:prompt:member:40"); enqueueing the same key
twice is a no-op, so a retried use case or a restarted scheduler never sends twice."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import ChannelRef, Message
from bot.store.models import Delivery
from bot.store.upsert import insert_ignore


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    to: ChannelRef,
    message: Message,
    round_id: int | None = None,
    member_id: int | None = None,
) -> bool:
    """Queue `message` for `to` (a DM when `to.dm_user` is set). True when newly queued."""
    return await insert_ignore(
        session,
        Delivery,
        {
            "key": key,
            "platform": str(to.platform),
            "workspace": to.workspace,
            "target": to.dm_user or to.channel,
            "target_kind": "dm" if to.is_dm else "channel",
            "payload": message.to_json(),
            "state": "pending",
            "attempts": 0,
            "round_id": round_id,
            "member_id": member_id,
        },
        ["key"],
    )


def target_of(delivery: Delivery) -> ChannelRef:
    from bot.domain import Platform

    platform = Platform(delivery.platform)
    if delivery.target_kind == "dm":
        return ChannelRef(platform, delivery.workspace, delivery.target, dm_user=delivery.target)
    return ChannelRef(platform, delivery.workspace, delivery.target)

"""Learning groups and the channels they are bound to."""

from __future__ import annotations

import functools

from sqlalchemy import Select, bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import ChannelRef, Platform
from bot.errors import UserError
from bot.store.models import Group, GroupChannel
from bot.store.upsert import insert_ignore

NO_GROUP = (
    "There is no learning group in this channel yet. A facilitator starts one with `round start`."
)


@functools.cache
def _group_query() -> Select[Group]:
    # Built once: most commands ask where they run, and rebuilding the statement and its cache
    # key each time was a quarter of a check-in's time (see the README's Performance section).
    return (
        select(Group)
        .join(GroupChannel)
        .where(
            GroupChannel.platform == bindparam("platform"),
            GroupChannel.workspace == bindparam("workspace"),
            GroupChannel.channel == bindparam("channel"),
        )
    )


async def group_for_channel(session: AsyncSession, channel: ChannelRef) -> Group | None:
    params = {
        "platform": str(channel.platform),
        "workspace": channel.workspace,
        "channel": channel.channel,
    }
    return (await session.execute(_group_query(), params)).scalar_one_or_none()


async def require_group(session: AsyncSession, channel: ChannelRef) -> Group:
    if channel.is_dm:
        raise UserError("Run this in your group's channel, not in a direct message.")
    group = await group_for_channel(session, channel)
    if group is None:
        raise UserError(NO_GROUP)
    return group


async def timezone_of(session: AsyncSession, group_id: int) -> str:
    """A group's timezone alone: loading the group would read its channels as well."""
    found = await session.scalar(_timezone_query(), {"group": group_id})
    return str(found or "UTC")


@functools.cache
def _timezone_query() -> Select[str]:
    return select(Group.timezone).where(Group.id == bindparam("group"))


async def require_group_id(session: AsyncSession, channel: ChannelRef, known: int | None) -> int:
    """`require_group`'s id, without loading the group when the command already read it."""
    if known is not None and not channel.is_dm:
        return known
    return (await require_group(session, channel)).id


async def ensure_group(
    session: AsyncSession, channel: ChannelRef, *, name: str, timezone: str
) -> Group:
    """The channel's group; the first use in a channel creates it (no setup step), named after
    the channel when the platform gave its name."""
    if channel.is_dm:
        raise UserError("Run this in your group's channel, not in a direct message.")
    group = await group_for_channel(session, channel)
    if group is not None:
        return group
    group = Group(name=channel.name or name, timezone=timezone)
    session.add(group)
    await session.flush()
    inserted = await insert_ignore(
        session,
        GroupChannel,
        {
            "group_id": group.id,
            "platform": str(channel.platform),
            "workspace": channel.workspace,
            "channel": channel.channel,
        },
        ["platform", "workspace", "channel"],
    )
    if not inserted:  # another request bound the channel first: use its group
        await session.delete(group)
        found = await group_for_channel(session, channel)
        assert found is not None
        return found
    await session.refresh(group, ["channels"])
    return group


async def bind_channel(session: AsyncSession, group: Group, channel: ChannelRef) -> bool:
    """Bind another channel (possibly on another platform) to `group`: a bridged group."""
    existing = await group_for_channel(session, channel)
    if existing is not None and existing.id != group.id:
        raise UserError("That channel already belongs to another learning group.")
    return await insert_ignore(
        session,
        GroupChannel,
        {
            "group_id": group.id,
            "platform": str(channel.platform),
            "workspace": channel.workspace,
            "channel": channel.channel,
        },
        ["platform", "workspace", "channel"],
    )


def channels_of(group: Group) -> list[ChannelRef]:
    return [ChannelRef(Platform(c.platform), c.workspace, c.channel) for c in group.channels]

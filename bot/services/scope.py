"""Groups are walls: the ids a person types resolve only to what belongs where they typed them.
Another group's experiment, check-in, round or alarm is reported in the same words as a missing
one, so that its existence does not show through."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import groups
from bot.services.context import Invocation
from bot.store.models import GroupChannel


@dataclass(frozen=True)
class Here:
    """Where a command runs: a group's channel, a channel with no group yet, or a DM."""

    member_id: int
    platform: str
    workspace: str
    is_dm: bool
    group_id: int | None  # the channel's group; None in a DM or a channel with no group

    def in_group(self, group_id: int) -> bool:
        """In a channel, only its own group's things are here."""
        return not self.is_dm and self.group_id == group_id


async def here(session: AsyncSession, inv: Invocation) -> Here:
    channel = inv.channel
    group_id = inv.group_id  # read with the member; a channel with none may have one by now
    if group_id is None and not channel.is_dm:
        group = await groups.group_for_channel(session, channel)
        group_id = group.id if group is not None else None
    return Here(
        member_id=inv.member_id,
        platform=str(channel.platform),
        workspace=channel.workspace,
        is_dm=channel.is_dm,
        group_id=group_id,
    )


async def group_in_workspace(session: AsyncSession, group_id: int, where: Here) -> bool:
    """Whether the group has a channel on the DM's platform and workspace."""
    query = select(GroupChannel.id).where(
        GroupChannel.group_id == group_id,
        GroupChannel.platform == where.platform,
        GroupChannel.workspace == where.workspace,
    )
    return (await session.execute(query.limit(1))).first() is not None

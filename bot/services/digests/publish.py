"""Publishing a week's digests through the outbox: the group digest to every channel bound to
the group, the leader digest to each leader as a DM. Outbox keys are natural, so publishing
twice posts once."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain import ChannelRef, Message, Platform
from bot.services import alarms, groups, members, outbox
from bot.services.context import Deps
from bot.services.digests.build import build_digests
from bot.services.digests.isoweek import iso_week
from bot.services.digests.stored import POSTED
from bot.services.digests.variants import GROUP, LEADER, VARIANTS
from bot.store.models import Digest, Group, Member

log = logging.getLogger(__name__)


async def publish(session: AsyncSession, group: Group, digest: Digest, now: datetime) -> int:
    """One outbox row per channel bound to the group; the digest is marked posted. Returns how
    many rows were newly queued (0 when it was already published)."""
    message = Message.from_json(digest.content)
    queued = 0
    for channel in groups.channels_of(group):
        key = (
            f"digest:{group.id}:{digest.week}:{digest.variant}:{channel.platform}:{channel.channel}"
        )
        queued += await outbox.enqueue(session, key=key, to=channel, message=message)
    _mark_posted(digest, now)
    return queued


async def leaders(session: AsyncSession, settings: Settings, group: Group) -> list[Member]:
    """Leaders of the group's workspaces, and configured leader ids."""
    return await members.holding_role(session, group, ("leader",), settings.bot.leaders)


async def send_to_leaders(
    session: AsyncSession, settings: Settings, group: Group, digest: Digest, now: datetime
) -> int:
    """The leader digest, as a DM to each leader."""
    message = Message.from_json(digest.content)
    queued = 0
    for member in await leaders(session, settings, group):
        ws = member.workspace
        to = ChannelRef(Platform(ws.platform), ws.external_id, member.user_id, member.user_id)
        key = f"digest:{group.id}:{digest.week}:{digest.variant}:{ws.platform}:dm-{member.user_id}"
        queued += await outbox.enqueue(
            session, key=key, to=to, message=message, member_id=member.id
        )
    _mark_posted(digest, now)
    return queued


def _mark_posted(digest: Digest, now: datetime) -> None:
    if digest.state != POSTED:
        digest.state, digest.posted_at = POSTED, now


async def publish_week(
    deps: Deps, session: AsyncSession, group: Group, week: str
) -> tuple[Digest, bool]:
    """Build and publish the week's digests: the group one to every bound channel, the leader
    one to the leaders. Returns the group digest and whether it was posted just now."""
    now = deps.clock()
    built = await build_digests(deps, session, group, week, VARIANTS)
    first_time = built[GROUP].state != POSTED
    await publish(session, group, built[GROUP], now)
    await send_to_leaders(session, deps.settings, group, built[LEADER], now)
    return built[GROUP], first_time


async def publish_weekly(deps: Deps, group_id: int) -> Digest | None:
    """The scheduled job: this week's digest (in the group's timezone), published once."""
    try:
        await alarms.evaluate(deps, group_id)  # so the digest shows current alarms
    except Exception:
        log.exception("alarm evaluation before the digest failed for group %s", group_id)
    async with deps.db.begin() as session:
        group = await session.get(Group, group_id)
        if group is None:
            return None
        week = iso_week(deps.clock(), group.timezone)
        digest, _ = await publish_week(deps, session, group, week)
    deps.notify_outbox()
    return digest

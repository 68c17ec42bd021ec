"""Workspaces, members and roles. Who may do what is decided here, not in adapters."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, Select, bindparam, func, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.config import Settings
from bot.domain import Actor, ChannelRef, MemberInfo, Platform, Role
from bot.errors import NotFound, UserError
from bot.services.groups import group_for_channel
from bot.store.base import utcnow
from bot.store.database import Database
from bot.store.models import Group, GroupChannel, Member, Workspace
from bot.store.upsert import get_or_create

# Ids per IN (…) list: well inside every database's limit on bound parameters.
CHUNK = 500


async def ensure_workspace(
    session: AsyncSession, platform: Platform, external_id: str
) -> Workspace:
    query = select(Workspace).where(
        Workspace.platform == str(platform), Workspace.external_id == external_id
    )
    found = (await session.execute(query)).scalar_one_or_none()
    if found is not None:  # the common case reads only: no write lock on SQLite
        return found
    return await get_or_create(
        session, Workspace, {"platform": str(platform), "external_id": external_id}, {"name": ""}
    )


@functools.cache
def _member_query() -> Select[Member]:
    """Built once and reused: SQLAlchemy then skips rebuilding the statement and its cache key,
    a good part of a short command's time."""
    return (
        select(Member)
        .join(Workspace, Member.workspace_id == Workspace.id)
        .where(
            Workspace.platform == bindparam("platform"),
            Workspace.external_id == bindparam("workspace"),
            Member.user_id == bindparam("user"),
        )
    )


@dataclass(frozen=True)
class Known:
    """Who runs a command and where: the member, and the channel's group (None in a DM or a
    channel with no group yet)."""

    member_id: int
    role: str  # as stored (granted with `role add`)
    timezone: str | None  # the member's own
    group_id: int | None
    group_timezone: str | None


@functools.cache
def _known_query() -> Select[int, str, str, str, str | None, int, str]:
    """The member and the channel's group in one statement, built once (see _member_query)."""
    bound = (
        select(GroupChannel.group_id)
        .where(
            GroupChannel.platform == bindparam("platform"),
            GroupChannel.workspace == bindparam("workspace"),
            GroupChannel.channel == bindparam("channel"),
        )
        .scalar_subquery()
    )
    return (
        select(
            Member.id,
            Member.role,
            Member.platform_role,
            Member.display_name,
            Member.timezone,
            Group.id,
            Group.timezone,
        )
        .join(Workspace, Member.workspace_id == Workspace.id)
        .outerjoin(Group, Group.id == bound)
        .where(
            Workspace.platform == bindparam("platform"),
            Workspace.external_id == bindparam("workspace"),
            Member.user_id == bindparam("user"),
        )
    )


async def known(db: Database, actor: Actor, channel: ChannelRef) -> Known:
    """The member behind `actor` and the channel's group: one Core read for a known member
    whose platform details are unchanged (every command starts here), else `ensure_member`'s
    write."""
    params = {
        "platform": str(actor.platform),
        "workspace": actor.workspace,
        "user": actor.user_id,
        "channel": "" if channel.is_dm else channel.channel,
    }

    async def query(
        connection: AsyncConnection,
    ) -> Row[int, str, str, str, str | None, int, str] | None:
        return (await connection.execute(_known_query(), params)).first()

    row = await db.read(query)
    if row is not None and not _changed(actor, row[2], row[3], row[4]):
        group_id, group_timezone = (None, None) if channel.is_dm else (row[5], row[6])
        return Known(row[0], row[1], row[4], group_id, group_timezone)
    async with db.begin() as session:
        member = await ensure_member(session, actor)
        group = None if channel.is_dm else await group_for_channel(session, channel)
        return Known(
            member.id,
            member.role,
            member.timezone,
            group.id if group is not None else None,
            group.timezone if group is not None else None,
        )


def _changed(actor: Actor, platform_role: str, name: str, timezone: str | None) -> bool:
    """Whether `ensure_member` would write: what the platform says of the person moved on."""
    return (
        platform_role != actor.platform_role.label
        or bool(actor.display_name and name != actor.display_name)
        or bool(actor.timezone and not timezone)
    )


async def ensure_member(session: AsyncSession, actor: Actor) -> Member:
    """The member behind `actor`, created on first sight; the display name follows the platform.

    Every command starts here, so a known member costs one read and no write (on SQLite an
    insert-if-absent takes the database's write lock even when it inserts nothing)."""
    params = {"platform": str(actor.platform), "workspace": actor.workspace, "user": actor.user_id}
    member = (await session.execute(_member_query(), params)).scalar_one_or_none()
    if member is None:
        ws = await ensure_workspace(session, actor.platform, actor.workspace)
        member = await get_or_create(
            session,
            Member,
            {"workspace_id": ws.id, "user_id": actor.user_id},
            {
                "display_name": actor.display_name,
                "timezone": actor.timezone,
                "role": "member",
                "platform_role": actor.platform_role.label,
            },
        )
    if member.display_name != actor.display_name and actor.display_name:
        member.display_name = actor.display_name
    if actor.timezone and not member.timezone:
        member.timezone = actor.timezone
    if member.platform_role != actor.platform_role.label:
        member.platform_role = actor.platform_role.label
    return member


async def ensure_members(
    session: AsyncSession, platform: Platform, workspace: str, infos: list[MemberInfo]
) -> list[Member]:
    """Channel members as reported by the adapter, created on first sight, in `infos` order.

    A few statements whatever the size of the channel: a round to a thousand people must not
    cost thousands of round trips before the first prompt leaves."""
    if not infos:
        return []
    ws = await ensure_workspace(session, platform, workspace)
    wanted = list(dict.fromkeys(info.user_id for info in infos))
    found = await _by_user_id(session, ws.id, wanted)
    missing = {i.user_id: i for i in infos if i.user_id not in found}
    if missing:
        table: Any = Member.__table__
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        rows = [
            {
                "workspace_id": ws.id,
                "user_id": info.user_id,
                "display_name": info.display_name,
                "timezone": info.timezone,
                "role": "member",
                "platform_role": Role.MEMBER.label,
                "created_at": utcnow(),
            }
            for info in missing.values()
        ]
        stmt = dialect.insert(table).on_conflict_do_nothing(
            index_elements=["workspace_id", "user_id"]
        )
        await session.execute(stmt, rows)  # a concurrent creator wins cleanly
        found.update(await _by_user_id(session, ws.id, list(missing)))
    out = []
    for info in infos:
        member = found[info.user_id]
        # A channel listing says nothing about roles: the platform role stays as the member's
        # own last command reported it (alarms and leader digests rely on it).
        if member.display_name != info.display_name and info.display_name:
            member.display_name = info.display_name
        if info.timezone and not member.timezone:
            member.timezone = info.timezone
        out.append(member)
    return out


async def _by_user_id(
    session: AsyncSession, workspace_id: int, user_ids: list[str]
) -> dict[str, Member]:
    out: dict[str, Member] = {}
    for start in range(0, len(user_ids), CHUNK):
        query = select(Member).where(
            Member.workspace_id == workspace_id,
            Member.user_id.in_(user_ids[start : start + CHUNK]),
        )
        out.update((m.user_id, m) for m in (await session.execute(query)).scalars())
    return out


def effective_role(stored: str, actor: Actor, settings: Settings) -> Role:
    """The highest of: the stored role, what the platform says, and the configured lists."""
    role = max(Role[stored.upper()], actor.platform_role)
    ids = {actor.key, actor.user_id}
    if ids & set(settings.bot.facilitators):
        role = max(role, Role.FACILITATOR)
    if ids & set(settings.bot.leaders):
        role = max(role, Role.LEADER)
    return role


async def find_member(session: AsyncSession, workspace_id: int, ref: str) -> Member:
    """A member by platform user id, mention (<@U123>) or display name."""
    cleaned = ref.strip().removeprefix("<@").removesuffix(">").removeprefix("@")
    query = select(Member).where(
        Member.workspace_id == workspace_id,
        or_(Member.user_id == cleaned, func.lower(Member.display_name) == cleaned.lower()),
    )
    found = list((await session.execute(query)).scalars())
    if not found:
        raise NotFound(f"No member called '{ref}' here.")
    if len(found) > 1:
        raise UserError(f"More than one member is called '{ref}'; use their user id.")
    return found[0]


async def set_role(session: AsyncSession, member: Member, role: Role) -> None:
    if role is Role.ADMIN:
        raise UserError("Admins are set by the platform or bot.toml, not by command.")
    member.role = role.label


async def holding_role(
    session: AsyncSession, group: Group, roles: tuple[str, ...], configured: list[str]
) -> list[Member]:
    """Members who hold one of `roles` (granted or from the platform) in a workspace of the
    group's channels, plus the configured ids (`slack:U1` or a bare id) that exist as members."""
    places = {(c.platform, c.workspace) for c in group.channels}
    wanted = set(configured)
    bare_ids = {ref.split(":", 1)[-1] for ref in wanted}
    query = (
        select(Member, Workspace)
        .join(Workspace, Member.workspace_id == Workspace.id)
        .where(
            or_(
                Member.role.in_(roles),
                Member.platform_role.in_(roles),
                Member.user_id.in_(bare_ids),
            )
        )
        .order_by(Member.id)
    )
    out = []
    for member, ws in (await session.execute(query)).all():
        by_role = member.role in roles or member.platform_role in roles
        in_group = (ws.platform, ws.external_id) in places
        by_config = member.user_id in wanted or f"{ws.platform}:{member.user_id}" in wanted
        if (by_role and in_group) or by_config:
            out.append(member)
    return out

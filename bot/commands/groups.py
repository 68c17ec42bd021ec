"""`group`, `group link [code]`: one learning group across several channels and platforms.

Linking works from either side and needs nothing but chat: a facilitator runs `group link` in
the group's channel and gets a one-time code; a facilitator runs `group link <code>` in the
other channel (on Slack, Discord or the console) and that channel joins the group. From then on
the group's rounds, digests and alarms reach both channels. Codes live in AppState for 30
minutes; a used code answers a replay of the same link calmly and refuses any other channel."""

from __future__ import annotations

import json
import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import forms
from bot.commands.registry import Args, CommandSpec, Result
from bot.domain import ChannelRef, Reply, Role
from bot.domain.params import Param
from bot.domain.plural import plural
from bot.errors import UserError
from bot.services import groups
from bot.services.context import Invocation
from bot.store.models import AppState, Group

CODE_TTL = timedelta(minutes=30)
CODE_PREFIX = "group-link:"
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # nothing that reads as another character
CODE_LENGTH = 8
UNKNOWN_CODE = (
    "That link code is unknown or has expired. Run `group link` in the other channel for a new one."
)


def _describe(channel: ChannelRef) -> str:
    return f"{channel.platform} channel {channel.channel} (workspace {channel.workspace})"


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


async def _forget_expired(session: AsyncSession, now: datetime) -> None:
    rows = (
        await session.execute(select(AppState).where(AppState.key.startswith(CODE_PREFIX)))
    ).scalars()
    stale = [r.key for r in rows if datetime.fromisoformat(json.loads(r.value)["expires"]) <= now]
    if stale:
        await session.execute(delete(AppState).where(AppState.key.in_(stale)))


async def _offer_code(inv: Invocation) -> Reply:
    now = inv.deps.clock()
    async with inv.deps.db.begin() as session:
        group = await groups.ensure_group(
            session, inv.channel, name=inv.channel.channel, timezone=inv.deps.settings.bot.timezone
        )
        await _forget_expired(session, now)
        code = new_code()
        value = {"group": group.id, "expires": (now + CODE_TTL).isoformat(), "used_by": None}
        session.add(AppState(key=CODE_PREFIX + code, value=json.dumps(value)))
    minutes = int(CODE_TTL.total_seconds() // 60)
    return Reply.text(
        f"To bridge another channel to this learning group, a facilitator runs "
        f"`group link {code}` there (on Slack, Discord or the console) within {minutes} "
        "minutes. The code works once. Rounds, digests and alarms then reach both channels."
    )


async def _use_code(inv: Invocation, code: str) -> Reply:
    now = inv.deps.clock()
    key = CODE_PREFIX + code.strip().upper()
    async with inv.deps.db.begin() as session:
        row = await session.get(AppState, key, with_for_update=True)
        if row is None:
            raise UserError(UNKNOWN_CODE)
        value = json.loads(row.value)
        if datetime.fromisoformat(value["expires"]) <= now:
            await session.delete(row)
            raise UserError(UNKNOWN_CODE)
        group = await session.get(Group, value["group"])
        if group is None:
            raise UserError("The group behind that code no longer exists.")
        if value["used_by"] is not None:
            if value["used_by"] == inv.channel.key:
                return Reply.text(f"This channel is already part of *{group.name}*.")
            raise UserError("That link code was already used. Ask for a new one.")
        await groups.bind_channel(session, group, inv.channel)
        value["used_by"] = inv.channel.key
        row.value = json.dumps(value)
        await session.refresh(group, ["channels"])
        others = [c for c in groups.channels_of(group) if c.key != inv.channel.key]
    where = "; ".join(_describe(c) for c in others) or "no other channel"
    return Reply.text(
        f"This channel is now part of the learning group *{group.name}*, with {where}. Its "
        "rounds, digests and alarms reach every one of its channels.",
        ephemeral=False,
    )


async def group_link(inv: Invocation, args: Args) -> Result:
    forms.unknown_fields((), args)
    if inv.channel.is_dm:
        raise UserError("Run this in a channel, not in a direct message.")
    if len(args.positional) > 1:
        raise UserError("Use `group link` for a code, or `group link <code>` to use one.")
    if args.positional:
        return await _use_code(inv, args.positional[0])
    return await _offer_code(inv)


async def group_show(inv: Invocation, args: Args) -> Result:
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        channels = groups.channels_of(group)
        name = group.name
    places = plural(len(channels), "place")
    lines = [f"This channel belongs to the learning group *{name}*, in {places}:"]
    lines += [
        f"• {_describe(c)}" + (" (here)" if c.key == inv.channel.key else "") for c in channels
    ]
    return Reply.text("\n".join(lines))


SPECS = (
    CommandSpec(
        ("group",),
        "group",
        "This channel's learning group and every channel it is bound to.",
        group_show,
    ),
    CommandSpec(
        ("group", "link"),
        "group link [code]",
        "Bridge two channels (on any platform) into one learning group, with a one-time code.",
        group_link,
        params=(
            Param(
                "code",
                "text",
                "The code `group link` gave in the other channel; leave out to get one",
                example="ABC123",
            ),
        ),
        min_role=Role.FACILITATOR,
        details="Without a code: get one here. With a code: join this channel to its group.",
    ),
)

"""Who says what where, for tests that talk to the dispatcher: the console channels, DMs, the
usual people, and `say`/`ask`, which run one command and insist on a reply or a form."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.commands import Dispatcher
from bot.domain import Actor, ChannelRef, Form, MemberInfo, Platform, Reply, Role
from bot.services.context import Deps
from tests.support.adapter import RecordingAdapter

WORKSPACE = "console"

HERE = ChannelRef(Platform.CONSOLE, WORKSPACE, "learning")
THERE = ChannelRef(Platform.CONSOLE, WORKSPACE, "elsewhere")
# The same places under the names some tests read better with.
CHANNEL = HERE
OTHER = THERE


def dm(user: str | Actor) -> ChannelRef:
    """The console DM with one person, by user id or as that person."""
    user_id = user.user_id if isinstance(user, Actor) else user
    return ChannelRef(Platform.CONSOLE, WORKSPACE, user_id, dm_user=user_id)


def actor(user: str, name: str, role: Role = Role.MEMBER, *, timezone: str | None = None) -> Actor:
    """A console person; `role` is the one their platform gives them."""
    return Actor(Platform.CONSOLE, WORKSPACE, user, name, timezone, role)


ADA = actor("u1", "Ada")
BEA = actor("u2", "Bea")
CAL = actor("u3", "Cal")
FAY = actor("u4", "Fay", Role.FACILITATOR)


async def run(
    bot: Dispatcher,
    who: Actor,
    text: str,
    channel: ChannelRef = HERE,
    *,
    fields: dict[str, str] | None = None,
    source_key: str | None = None,
) -> Reply | Form:
    """Run one command as `who` in `channel`, as an adapter would."""
    return await bot.handle(who, channel, text, fields=fields, source_key=source_key)


async def say(bot: Dispatcher, who: Actor, text: str, *args: Any, **kw: Any) -> Reply:
    """Run a command that must answer with a reply (not a form); arguments as for `run`."""
    result = await run(bot, who, text, *args, **kw)
    assert isinstance(result, Reply), result
    return result


async def ask(bot: Dispatcher, who: Actor, text: str, *args: Any, **kw: Any) -> Form:
    """Run a command that must answer with a form to fill in; arguments as for `run`."""
    result = await run(bot, who, text, *args, **kw)
    assert isinstance(result, Form), result
    return result


async def said(bot: Dispatcher, who: Actor, text: str, *args: Any, **kw: Any) -> str:
    """The text of the reply to a command that must answer with a reply."""
    return (await say(bot, who, text, *args, **kw)).message.text


def channel_with(deps: Deps, people: Iterable[MemberInfo]) -> RecordingAdapter:
    """A recording adapter whose `learning` channel holds `people`, added to `deps`."""
    recording = RecordingAdapter(members={HERE.channel: list(people)})
    deps.adapters.add(recording)
    return recording

from __future__ import annotations

import re

from sqlalchemy import select

from bot.commands import Dispatcher
from bot.domain import Actor, ChannelRef, Platform, Reply, Role
from bot.services import groups
from bot.services.context import Deps
from bot.store.models import AppState
from tests.support.clock import Clock

SLACK = ChannelRef(Platform.SLACK, "T1", "C1")
DISCORD = ChannelRef(Platform.DISCORD, "900", "700")
OTHER = ChannelRef(Platform.DISCORD, "900", "701")
ANA = Actor(Platform.SLACK, "T1", "U1", "Ana", platform_role=Role.FACILITATOR)
DAN = Actor(Platform.DISCORD, "900", "11", "Dan", platform_role=Role.FACILITATOR)
MEMBER = Actor(Platform.DISCORD, "900", "12", "Mo")


async def say(bot: Dispatcher, actor: Actor, where: ChannelRef, text: str) -> Reply:
    result = await bot.handle(actor, where, text)
    assert isinstance(result, Reply), result
    return result


async def code_from(bot: Dispatcher) -> str:
    reply = await say(bot, ANA, SLACK, "group link")
    match = re.search(r"`group link ([A-Z0-9]{8})`", reply.message.text)
    assert match, reply.message.text
    assert reply.ephemeral  # the code is shown to the facilitator only
    return match.group(1)


async def test_a_code_from_slack_links_a_discord_channel(bot: Dispatcher, deps: Deps) -> None:
    code = await code_from(bot)
    reply = await say(bot, DAN, DISCORD, f"group link {code.lower()}")
    assert not reply.ephemeral
    assert "now part of the learning group" in reply.message.text
    async with deps.db.begin() as s:
        here = await groups.group_for_channel(s, DISCORD)
        there = await groups.group_for_channel(s, SLACK)
        assert here is not None and there is not None and here.id == there.id
        assert {c.key for c in groups.channels_of(here)} == {SLACK.key, DISCORD.key}
    shown = await say(bot, MEMBER, DISCORD, "group")
    assert "slack channel C1" in shown.message.text and "(here)" in shown.message.text


async def test_a_code_works_once_and_a_replay_is_calm(bot: Dispatcher) -> None:
    code = await code_from(bot)
    await say(bot, DAN, DISCORD, f"group link {code}")
    again = await say(bot, DAN, DISCORD, f"group link {code}")
    assert again.message.text.startswith("This channel is already part of")
    other = await say(bot, DAN, OTHER, f"group link {code}")
    assert other.message.text == "That link code was already used. Ask for a new one."


async def test_expired_and_unknown_codes(bot: Dispatcher, deps: Deps, clock: Clock) -> None:
    code = await code_from(bot)
    clock.advance(minutes=31)
    reply = await say(bot, DAN, DISCORD, f"group link {code}")
    assert reply.message.text.startswith("That link code is unknown or has expired.")
    assert (await say(bot, DAN, DISCORD, "group link NOPE1234")).message.text.startswith(
        "That link code is unknown"
    )
    await code_from(bot)  # a new code clears the expired ones
    async with deps.db.begin() as s:
        keys = list((await s.execute(select(AppState.key))).scalars())
    assert len([k for k in keys if k.startswith("group-link:")]) == 1
    async with deps.db.begin() as s:
        assert await groups.group_for_channel(s, DISCORD) is None


async def test_only_facilitators_link_and_not_from_a_dm(bot: Dispatcher) -> None:
    code = await code_from(bot)
    refused = await say(bot, MEMBER, DISCORD, f"group link {code}")
    assert refused.message.text == "Only a facilitator can use `group link`."
    dm = ChannelRef(Platform.DISCORD, "900", "55", dm_user="11")
    assert "not in a direct message" in (await say(bot, DAN, dm, "group link")).message.text


async def test_a_channel_with_its_own_group_cannot_join_another(bot: Dispatcher) -> None:
    await say(bot, DAN, DISCORD, "group link")  # the Discord channel now has its own group
    code = await code_from(bot)
    reply = await say(bot, DAN, DISCORD, f"group link {code}")
    assert reply.message.text == "That channel already belongs to another learning group."
    assert (await say(bot, MEMBER, OTHER, "group")).message.text.startswith("There is no")

"""The adapter's seam on the fake Discord: sends, failures, members, intents, shards, URLs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import discord
import pytest
from sqlalchemy import select

from bot.app import App
from bot.domain import Button, ChannelRef, Message, Platform, Section
from bot.errors import ConfigError, DeliveryFailed, DeliveryRetry
from bot.store.models import Delivery
from integrations.common.text import ZWSP
from integrations.discord.adapter import DiscordAdapter
from tests.integrations.discord.conftest import StartBot
from tests.integrations.discord.helpers import custom_ids, make_facilitator, run, settle
from tests.support.fake_discord import VIEW_CHANNEL, FakeDiscord, FakeGuild


def adapter_of(app: App) -> DiscordAdapter:
    adapter = app.adapters.get(Platform.DISCORD)
    assert isinstance(adapter, DiscordAdapter)
    return adapter


def here(guild: FakeGuild, channel: int) -> ChannelRef:
    return ChannelRef(Platform.DISCORD, str(guild.id), str(channel))


def dm(guild: FakeGuild, user_id: int) -> ChannelRef:
    return ChannelRef(Platform.DISCORD, str(guild.id), str(user_id), dm_user=str(user_id))


def posts_to(channel: int) -> Any:
    return lambda method, path, body: method == "POST" and path == f"/channels/{channel}/messages"


async def test_long_text_is_split_and_mentions_stay_silent(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild()
    channel = fake.add_channel(guild, "learning")
    app = await start_bot()
    text = "@everyone " + "word " * 1000
    first = await adapter_of(app).send(here(guild, channel), Message(text), key="k:long")
    posts = fake.posts(channel)
    assert all(len(p["content"]) <= 2000 for p in posts)
    # Shown as written, but not a mention (a zero-width space after the @).
    assert " ".join(p["content"] for p in posts) == text.strip().replace("@", f"@{ZWSP}")
    assert len(posts) == 3 and first == posts[0]["id"]
    calls = fake.requests("POST", f"/channels/{channel}/messages")
    assert all(c.body["allowed_mentions"] == {"parse": []} for c in calls)


async def test_a_retried_digest_send_posts_nothing_twice(
    fake: FakeDiscord, start_bot: StartBot, tmp_path: Path
) -> None:
    guild = fake.add_guild()
    channel = fake.add_channel(guild, "learning")
    app = await start_bot()
    chart = tmp_path / "chart.png"
    chart.write_bytes(b"\x89PNG")
    sections = tuple(Section(f"Theme {i}", "text " * 900, (f"response:{i}",)) for i in range(6))
    message = Message(
        "*Weekly digest*\nheadline",
        sections,
        attachments=(str(chart),),
        alt_texts=("Chart: people taking part by week.",),
    )
    adapter = adapter_of(app)
    # The first try dies on the third message in the thread (a 503): the outbox retries it.
    thread_posts = 0

    def third_in_thread(method: str, path: str, body: Any) -> bool:
        nonlocal thread_posts
        if (
            method == "POST"
            and path.endswith("/messages")
            and int(path.split("/")[2]) in (fake.threads)
        ):
            thread_posts += 1
            return thread_posts == 3
        return False

    fake.fail(third_in_thread, status=503, code=0, message="unavailable", times=5)
    with pytest.raises(DeliveryRetry):
        await adapter.send(here(guild, channel), message, key="digest:1")
    parent_id = await adapter.send(here(guild, channel), message, key="digest:1")
    [parent] = fake.posts(channel)
    assert parent["id"] == parent_id
    assert [a["filename"] for a in parent["attachments"]] == ["chart.png"]
    assert parent["attachments"][0]["description"] == "Chart: people taking part by week."
    thread = fake.thread_of(int(parent_id))
    embeds = [e for m in thread for e in m["embeds"]]
    assert [e["title"] for e in embeds if "continued" not in e["title"]] == [
        f"Theme {i}" for i in range(6)
    ]
    assert all(sum(len(e.get("description", "")) for e in m["embeds"]) <= 6000 for m in thread)


async def test_a_dm_with_sections_has_no_thread(fake: FakeDiscord, start_bot: StartBot) -> None:
    guild = fake.add_guild(members=1)
    user = fake.humans(guild)[1]
    app = await start_bot()
    message = Message("Your digest", (Section("Momentum", "Three experiments"),))
    await adapter_of(app).send(dm(guild, user), message, key="k:dm")
    await adapter_of(app).send(dm(guild, user), Message("Again"), key="k:dm2")
    assert [m["content"] for m in fake.dms(user)] == ["Your digest", "", "Again"]
    assert fake.dms(user)[1]["embeds"][0]["title"] == "Momentum"
    assert not fake.threads
    assert len(fake.requests("POST", "/users/@me/channels")) == 1  # opened once


async def test_failures_are_sorted_into_retry_and_give_up(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=1)
    channel = fake.add_channel(guild, "learning")
    app = await start_bot()
    adapter = adapter_of(app)
    fake.fail(posts_to(channel), status=503, code=0, message="unavailable")
    with pytest.raises(DeliveryRetry):
        await adapter.send(here(guild, channel), Message("hi"), key="k:503")
    fake.fail(posts_to(channel), status=403, code=50013, message="Missing Permissions")
    with pytest.raises(DeliveryFailed, match="lacks permission"):
        await adapter.send(here(guild, channel), Message("hi"), key="k:403")
    with pytest.raises(DeliveryFailed, match="unknown channel"):
        await adapter.send(here(guild, 12345), Message("hi"), key="k:404")
    fake.rate_limit(posts_to(channel), retry_after=120.0, is_global=True)
    with pytest.raises(DeliveryRetry) as limited:
        await adapter.send(here(guild, channel), Message("hi"), key="k:429")
    assert limited.value.after == 120.0


async def test_closed_dms_are_reported_to_the_facilitator(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=4)
    channel = fake.add_channel(guild, "learning")
    fran, closed = fake.humans(guild)[1:3]
    make_facilitator(fake, guild, fran)
    app = await start_bot()

    def to_closed(method: str, path: str, body: Any) -> bool:
        return method == "POST" and path == f"/channels/{fake.dm_channels.get(closed)}/messages"

    fake.fail(to_closed, status=403, code=50007, message="Cannot send messages to this user")
    await run(fake, guild, channel, fran, "round start")
    await settle(app)
    status = fake.answer_text(await run(fake, guild, channel, fran, "round status"))
    assert "Deliveries: 4 sent, 0 pending, 1 failed." in status
    assert "- Member2: 50007: cannot send messages to this user" in status
    async with app.deps.db.begin() as s:
        states = sorted((await s.execute(select(Delivery.state))).scalars())
    assert states == ["failed", "sent", "sent", "sent", "sent"]


async def test_only_people_who_see_the_channel_are_asked(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=4)
    team = fake.add_role(guild, "Team")
    hidden = [{"id": str(guild.id), "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)}]
    hidden.append({"id": str(team), "type": 0, "allow": str(VIEW_CHANNEL), "deny": "0"})
    private = fake.add_channel(guild, "team-only", hidden)
    owner, fran, in_team, outsider = fake.humans(guild)[:4]
    make_facilitator(fake, guild, fran)
    for who in (fran, in_team):
        fake.member(guild, who)["roles"].append(str(team))
    fake.add_member(guild, "Helper", bot=True, roles=[team])
    app = await start_bot()
    members = await adapter_of(app).channel_members(here(guild, private))
    assert {m.user_id for m in members} == {str(owner), str(fran), str(in_team)}
    assert str(outsider) not in {m.user_id for m in members}


async def test_without_the_members_intent_it_says_so(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=3)
    channel = fake.add_channel(guild, "learning")
    fran = fake.humans(guild)[1]
    make_facilitator(fake, guild, fran)
    await start_bot(CYCLES_DISCORD__MEMBERS_INTENT="false")
    assert fake.identifies[-1]["intents"] & (1 << 1) == 0
    assert fake.identifies[-1]["intents"] & (1 << 15) == 0  # never message content
    iid = await fake.slash(guild, channel, fran, "round start")
    await fake.answered(iid, count=2)
    assert "without the Server Members intent" in fake.answer_text(iid)


async def test_a_disallowed_members_intent_stops_the_start_with_the_fix(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    fake.add_guild()
    fake.members_intent_enabled = False
    with pytest.raises(ConfigError, match="Server Members intent is not enabled"):
        await start_bot()


async def test_a_wrong_token_is_named(fake: FakeDiscord, start_bot: StartBot) -> None:
    with pytest.raises(ConfigError, match="DISCORD_TOKEN was refused"):
        await start_bot(DISCORD_TOKEN="wrong")


async def test_gateway_url_override_and_no_leak_of_the_rest_base(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=1)
    channel = fake.add_channel(guild, "learning")
    await start_bot(DISCORD_GATEWAY_URL=fake.gateway_url)
    assert fake.requests("GET", "/gateway/bot") == []
    assert fake.identifies
    iid = await run(fake, guild, channel, fake.humans(guild)[1], "help")
    assert fake.answer_text(iid)
    assert discord.http.Route.BASE == "https://discord.com/api/v10"


async def test_shards_split_servers_across_processes(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    even = fake.add_guild("Even", guild_id=(10 << 22) | 1)
    odd = fake.add_guild("Odd", guild_id=(11 << 22) | 1)
    app = await start_bot(CYCLES_DISCORD__SHARD_COUNT="2", CYCLES_DISCORD__SHARD_IDS="1")
    assert [i["shard"] for i in fake.identifies] == [[1, 2]]
    client = adapter_of(app).client
    assert client is not None
    assert [g.id for g in client.guilds] == [odd.id] and even.id not in {
        g.id for g in client.guilds
    }


async def test_long_button_commands_survive_in_the_database(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=1)
    user = fake.humans(guild)[1]
    app = await start_bot()
    command = "help " + "very-long-command-name " * 6
    button = Button("More", command.strip())
    await adapter_of(app).send(dm(guild, user), Message("Hi", buttons=(button,)), key="k:b")
    [sent] = fake.dms(user)
    [cid] = custom_ids(sent)
    assert len(cid) <= 100 and cid.startswith(f"cy:h:{guild.id}:")
    await app.stop()
    await start_bot()
    iid = await fake.click(cid, user, fake.dm_channels[user], message=sent)
    await fake.answered(iid)
    assert fake.answer_text(iid).startswith("No command 'very-long-command-name")


async def test_a_large_server_is_chunked_before_the_fan_out(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=30)
    channel = fake.add_channel(guild, "learning")
    fake.members_in_guild_create = False
    app = await start_bot()
    assert [int(r["guild_id"]) for r in fake.chunk_requests] == [guild.id]
    members = await adapter_of(app).channel_members(here(guild, channel))
    assert len(members) == 31  # the owner and thirty members; never the bot


async def test_without_thread_permission_the_sections_follow_in_the_channel(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild()
    channel = fake.add_channel(guild, "learning")
    app = await start_bot()
    fake.fail(
        lambda method, path, body: path.endswith("/threads"),
        status=403,
        code=50013,
        message="Missing Permissions",
    )
    message = Message("Digest", (Section("Momentum", "Two experiments"),))
    await adapter_of(app).send(here(guild, channel), message, key="k:nothreads")
    posts = fake.posts(channel)
    assert [p["content"] for p in posts] == ["Digest", ""]
    assert posts[1]["embeds"][0]["title"] == "Momentum"


async def test_a_dm_channel_is_not_opened_again_after_a_restart(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    """DM channel ids are kept through the port's store: after a restart, a round to people
    the bot wrote to before pays no first contact (POST /users/@me/channels) again."""
    guild = fake.add_guild(members=3)
    people = fake.humans(guild)[1:3]
    app = await start_bot()
    for user in people:
        await adapter_of(app).send(dm(guild, user), Message("Before"), key=f"k:{user}:1")
    assert len(fake.requests("POST", "/users/@me/channels")) == 2
    await app.stop()
    again = await start_bot()
    for user in people:
        await adapter_of(again).send(dm(guild, user), Message("After"), key=f"k:{user}:2")
    assert len(fake.requests("POST", "/users/@me/channels")) == 2  # none opened again
    assert all([m["content"] for m in fake.dms(u)] == ["Before", "After"] for u in people)

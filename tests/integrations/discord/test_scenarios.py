"""The Discord scenarios, through the real composition root, the real discord.py client and a
fake Discord on loopback."""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import func, select

from bot.app import App
from bot.clock import ManualClock
from bot.domain import Actor, ChannelRef, Platform, Reply, Role
from bot.store.models import Delivery, Response, Round
from tests.integrations.discord.conftest import StartBot
from tests.integrations.discord.helpers import (
    answer_round,
    custom_ids,
    is_ephemeral,
    make_facilitator,
    run,
    settle,
)
from tests.support.adapter import RecordingAdapter
from tests.support.fake_discord import FakeDiscord, FakeGuild


def dm_post(fake: FakeDiscord) -> Any:
    """A matcher: a message posted into any DM channel."""

    def match(method: str, path: str, body: Any) -> bool:
        parts = path.strip("/").split("/")
        return (
            method == "POST"
            and parts[0] == "channels"
            and parts[2:] == ["messages"]
            and int(parts[1]) in fake.dm_channels.values()
        )

    return match


def world(fake: FakeDiscord, members: int = 24) -> tuple[FakeGuild, int, int]:
    """A server with a #learning channel and 25 people (owner included); one facilitator."""
    guild = fake.add_guild(members=members)
    channel = fake.add_channel(guild, "learning")
    facilitator = fake.humans(guild)[1]
    make_facilitator(fake, guild, facilitator)
    return guild, channel, facilitator


async def count(app: App, model: Any) -> int:
    async with app.deps.db.begin() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_round_reaches_25_members_once_despite_429s(
    fake: FakeDiscord, start_bot: StartBot, clock: ManualClock
) -> None:
    guild, channel, facilitator = world(fake)
    app = await start_bot()
    # Short 429s on DM posts and on DM creation: discord.py waits Retry-After and tries again.
    fake.rate_limit(dm_post(fake), times=6, retry_after=0.02)
    fake.rate_limit(lambda m, p, b: p == "/users/@me/channels", times=2, retry_after=0.02)
    started = time.monotonic()
    iid = await fake.slash(guild, channel, facilitator, "round start", {"duration": "2d"})
    await fake.answered(iid)
    assert time.monotonic() - started < 3.0
    assert not is_ephemeral(fake, iid)
    assert "went to 25 members" in fake.answer_text(iid)
    # Then a long global 429: the outbox takes the send back and retries after Retry-After.
    fake.rate_limit(dm_post(fake), times=1, retry_after=45.0, is_global=True)
    await settle(app)
    clock.advance(seconds=46)
    await settle(app)
    humans = fake.humans(guild)
    assert len(humans) == 25
    assert {u: len(fake.dms(u)) for u in humans} == {u: 1 for u in humans}
    assert set(fake.dm_channels) == set(humans)  # nobody else, and never the bot
    [dm] = fake.dms(humans[5])
    assert "What did you try this week?" in dm["content"]
    assert custom_ids(dm) == [f"cy:c:{guild.id}:answer 1"]
    assert len(fake.requests("POST", "/users/@me/channels")) == 25 + 2  # once each, plus 429s
    async with app.deps.db.begin() as s:
        states = await s.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        assert dict(states.all()) == {"sent": 25}


async def test_answers_through_the_modal_with_an_edit(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild, channel, facilitator = world(fake)
    app = await start_bot()
    await run(fake, guild, channel, facilitator, "round start")
    await settle(app)
    humans = [u for u in fake.humans(guild) if u != facilitator]
    saved = await answer_round(
        fake, humans[0], {"tried": "Cardiogram first"}, {"surprise": "80", "visibility": "group"}
    )
    assert "Saved" in saved or "saved" in saved, saved
    await answer_round(fake, humans[1], {"tried": "Home visits", "next": "More of them"})
    await answer_round(fake, humans[2], {"noticed": "Less waiting"}, {"named": "yes"})
    # One edits: the form opens with the answers so far, and the change replaces them.
    await answer_round(fake, humans[0], {"tried": "Cardiogram first, then questions"})
    status = await run(fake, guild, channel, facilitator, "round status")
    assert "Answered: 3 of 25 members" in fake.answer_text(status)
    async with app.deps.db.begin() as s:
        rows = (await s.execute(select(Response.prompt_key, Response.text))).all()
    assert sorted(rows) == sorted(
        [
            ("tried", "Cardiogram first, then questions"),
            ("tried", "Home visits"),
            ("next", "More of them"),
            ("noticed", "Less waiting"),
        ]
    )
    async with app.deps.db.begin() as s:
        surprise = (
            await s.execute(select(Response.surprise).where(Response.prompt_key == "tried"))
        ).scalars()
        assert 80 in set(surprise)


async def test_refusal_for_a_member_who_is_not_a_facilitator(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild, channel, _ = world(fake)
    app = await start_bot()
    member = fake.humans(guild)[3]
    iid = await run(fake, guild, channel, member, "round start")
    assert is_ephemeral(fake, iid)
    assert fake.answer_text(iid) == "Only a facilitator can use `round start`."
    await settle(app)
    assert fake.dm_channels == {}
    assert await count(app, Round) == 0
    assert await count(app, Delivery) == 0


async def test_a_repeated_interaction_is_processed_once(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild, channel, facilitator = world(fake)
    app = await start_bot()
    payload = fake._base(2, fake.command_data(["round", "start"]), facilitator, guild, channel)
    iid = await fake.click("", facilitator, channel, payload=payload)
    await fake.answered(iid)
    await fake.click("", facilitator, channel, payload=payload)  # the gateway sends it again
    await settle(app)
    callbacks = [c for c in fake.requests("POST", "/interactions/") if str(iid) in c.path]
    assert len(callbacks) == 1
    # Even a restarted bot (no memory of it) does not run it twice: the database knows it.
    await app.stop()
    app = await start_bot()
    await fake.click("", facilitator, channel, payload=payload)
    await fake.wait_for(lambda: len(fake.requests("POST", f"/interactions/{iid}/")) == 2)
    await settle(app)
    assert await count(app, Round) == 1
    assert await count(app, Delivery) == 25
    assert sum(len(fake.dms(u)) for u in fake.humans(guild)) == 25


async def test_restart_mid_fan_out_neither_duplicates_nor_loses(
    fake: FakeDiscord, start_bot: StartBot, clock: ManualClock
) -> None:
    guild, channel, facilitator = world(fake)
    posted = 0

    def after_ten(method: str, path: str, body: Any) -> bool:
        nonlocal posted
        if not dm_post(fake)(method, path, body):
            return False
        posted += 1
        return posted > 10

    # The 11th DM reaches Discord but the answer never comes back: the bot stops mid-send.
    release = fake.hold(after_ten)
    app = await start_bot()
    await run(fake, guild, channel, facilitator, "round start")
    await fake.wait_for(lambda: sum(len(fake.dms(u)) for u in fake.humans(guild)) == 11)
    await app.stop()
    release.set()
    fake.holds.clear()
    assert sum(len(fake.dms(u)) for u in fake.humans(guild)) == 11
    clock.advance(minutes=2)  # past the lease and the backoff of what was in flight
    app = await start_bot()
    await settle(app)
    humans = fake.humans(guild)
    assert {u: len(fake.dms(u)) for u in humans} == {u: 1 for u in humans}
    # The one in flight was sent again, with the same nonce: Discord kept the first copy.
    posts = [c for c in fake.calls if dm_post(fake)(c.method, c.path, c.body)]
    assert len(posts) == 26
    nonces = [c.body["nonce"] for c in posts]
    assert len(set(nonces)) == 25 and all(c.body["enforce_nonce"] for c in posts)
    async with app.deps.db.begin() as s:
        states = await s.execute(select(Delivery.state, func.count()).group_by(Delivery.state))
        assert dict(states.all()) == {"sent": 25}


async def _answered_round(fake: FakeDiscord, app: App, guild: FakeGuild, channel: int) -> int:
    facilitator = fake.humans(guild)[1]
    await run(fake, guild, channel, facilitator, "round start")
    await settle(app)
    people = [u for u in fake.humans(guild) if u != facilitator]
    texts = [
        "We tried booking the cardiogram first and the questions after it",
        "The cardiogram first meant patients arrived calmer for the questions",
        "Home visits before the clinic surprised the whole team",
    ]
    for person, text in zip(people, texts, strict=False):
        await answer_round(fake, person, {"tried": text, "noticed": text}, {"surprise": "90"})
    return facilitator


async def test_digest_is_a_parent_message_with_a_thread(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild, channel, _ = world(fake, members=6)
    app = await start_bot()
    facilitator = await _answered_round(fake, app, guild, channel)
    before = len(fake.posts(channel))
    iid = await run(fake, guild, channel, facilitator, "digest now")
    assert "digest" in fake.answer_text(iid).lower()
    await settle(app)
    [parent] = fake.posts(channel)[before:]
    thread = fake.thread_of(int(parent["id"]))
    assert int(parent["id"]) in fake.threads
    assert thread, "the sections go into the thread"
    embeds = [e for m in thread for e in m["embeds"]]
    assert embeds and all(len(e.get("description", "")) <= 4096 for e in embeds)
    assert all(len(m["embeds"]) <= 10 for m in thread)
    assert all(len(m["content"]) <= 2000 for m in [parent, *thread])
    [start] = fake.requests("POST", f"/messages/{parent['id']}/threads")
    assert start.body["name"]


async def test_bridged_group_digest_reaches_slack_and_discord(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild, channel, _ = world(fake, members=6)
    app = await start_bot()
    slack = RecordingAdapter(platform=Platform.SLACK)
    app.add_adapter(slack)
    facilitator = await _answered_round(fake, app, guild, channel)
    # On Discord a facilitator asks for a code; on Slack another uses it in their channel.
    offer = await run(fake, guild, channel, facilitator, "group link")
    assert is_ephemeral(fake, offer)
    match = re.search(r"`group link ([A-Z0-9]{8})`", fake.answer_text(offer))
    assert match
    slack_channel = ChannelRef(Platform.SLACK, "T1", "C1")
    ana = Actor(Platform.SLACK, "T1", "U1", "Ana", platform_role=Role.FACILITATOR)
    joined = await app.dispatcher.handle(ana, slack_channel, f"group link {match.group(1)}")
    assert isinstance(joined, Reply) and "now part of the learning group" in joined.message.text
    before = len(fake.posts(channel))
    await run(fake, guild, channel, facilitator, "digest now")
    await settle(app)
    [parent] = fake.posts(channel)[before:]
    assert fake.thread_of(int(parent["id"]))
    [on_slack] = [s for s in slack.sent if s.to == slack_channel]
    assert on_slack.message.sections
    assert on_slack.message.text.splitlines()[0] == parent["content"].splitlines()[0]


async def test_commands_register_once_per_tree_and_scope(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild()
    app = await start_bot()
    [first] = fake.requests("PUT", "/commands")
    assert first.path == f"/applications/{fake.app_id}/commands"  # global by default
    [cycles] = first.body
    assert cycles["name"] == "cycles" and cycles["contexts"] == [0]
    await app.stop()
    app = await start_bot()
    assert len(fake.requests("PUT", "/commands")) == 1  # unchanged: not registered again
    await app.stop()
    await start_bot(CYCLES_DISCORD__GUILD_IDS=str(guild.id))  # development: one server
    [_, second] = fake.requests("PUT", "/commands")
    assert second.path == f"/applications/{fake.app_id}/guilds/{guild.id}/commands"

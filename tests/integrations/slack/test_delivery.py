"""Sending through the Web API against the fake: threads, files, splitting, pacing, and what a
failure means for the outbox."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from pydantic import SecretStr

from bot.config import SlackSettings
from bot.domain import ChannelRef, Message, Platform, Section
from bot.errors import DeliveryFailed, DeliveryRetry
from integrations.slack.delivery import Sender
from integrations.slack.web import make_clients
from tests.support.fake_slack import FakeSlack

DM_U1 = ChannelRef(Platform.SLACK, "T0001", "U1", dm_user="U1")
C1 = ChannelRef(Platform.SLACK, "T0001", "C1")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack(retry_after=7).start()
    server.add_user("U1", "Ana")
    server.add_user("UB", "A bot", bot=True)
    server.add_user("UX", "Left", deleted=True)
    server.add_channel("C1", ["U1"])
    try:
        yield server
    finally:
        await server.stop()


def settings(fake: FakeSlack, *, rate: float = 1000, burst: int = 1000) -> SlackSettings:
    return SlackSettings(
        bot_token=SecretStr(fake.bot_token),
        api_url=fake.api_url,
        send_rate_per_second=rate,
        send_burst=burst,
    )


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


def sender(fake: FakeSlack, session: aiohttp.ClientSession, **kw: float) -> Sender:
    config = settings(fake, **kw)  # type: ignore[arg-type]
    _, sends = make_clients(config, session)
    return Sender(config, lambda: sends)


async def test_a_dm_opens_the_conversation_once(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    out = sender(fake, session)
    first = await out.send(DM_U1, Message("one"), key="k1")
    second = await out.send(DM_U1, Message("two"), key="k2")
    assert first.startswith("DU1:") and second.startswith("DU1:")
    assert len(fake.calls_to("conversations.open")) == 1
    assert [p.text for p in fake.dms_to("U1")] == ["one", "two"]


async def test_existing_dms_are_found_without_opening_each(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    for n in range(25):
        fake.add_user(f"UE{n}", f"E{n}")
        fake.dm_of[f"UE{n}"] = f"DUE{n}"  # the app wrote to them before a restart
    out = sender(fake, session)
    for n in range(25):
        to = ChannelRef(Platform.SLACK, "T0001", f"UE{n}", dm_user=f"UE{n}")
        assert (await out.send(to, Message("hi"), key=f"k{n}")).startswith(f"DUE{n}:")
    await out.send(DM_U1, Message("new person"), key="k-new")
    assert len(fake.calls_to("users.conversations")) == 1
    assert [c.args["users"] for c in fake.calls_to("conversations.open")] == ["U1"]


async def test_sections_go_in_the_thread_and_charts_with_them(
    fake: FakeSlack, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    chart = tmp_path / "digest-1-2026-W48.png"
    chart.write_bytes(b"\x89PNG fake chart")
    message = Message(
        "Week 48: 3 experiments moved",
        sections=(Section("Momentum", "text"), Section("Surprises", "more")),
        attachments=(str(chart), str(tmp_path / "missing.png")),
        alt_texts=("Chart: surprise this week.", "Gone."),
    )
    posted = await sender(fake, session).send(C1, message, key="digest")
    parent = fake.in_channel("C1")[0]
    assert posted == f"C1:{parent.ts}"
    assert [p.thread_ts for p in fake.in_channel("C1")] == [None, parent.ts, parent.ts]
    [upload] = fake.uploads.values()
    assert upload["bytes"] == len(b"\x89PNG fake chart")
    assert (upload["channel"], upload["thread_ts"]) == ("C1", parent.ts)
    assert upload["alt_txt"] == "Chart: surprise this week."


async def test_429_is_a_retry_after_slacks_wait(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    fake.ratelimit_dms["U1"] = 1
    out = sender(fake, session)
    with pytest.raises(DeliveryRetry) as caught:
        await out.send(DM_U1, Message("hi"), key="k")
    assert caught.value.after == 7
    await out.send(DM_U1, Message("hi"), key="k")
    assert len(fake.dms_to("U1")) == 1


@pytest.mark.parametrize(
    ("to", "reason"),
    [
        (ChannelRef(Platform.SLACK, "T0001", "UB", dm_user="UB"), "cannot_dm_bot"),
        (ChannelRef(Platform.SLACK, "T0001", "UX", dm_user="UX"), "user_disabled"),
        (ChannelRef(Platform.SLACK, "T0001", "U404", dm_user="U404"), "user_not_found"),
        (ChannelRef(Platform.SLACK, "T0001", "C404"), "channel_not_found"),
    ],
)
async def test_permanent_errors_fail_the_delivery(
    fake: FakeSlack, session: aiohttp.ClientSession, to: ChannelRef, reason: str
) -> None:
    with pytest.raises(DeliveryFailed, match=reason):
        await sender(fake, session).send(to, Message("hi"), key="k")


async def test_account_inactive_on_post_is_permanent(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    fake.fail_dms["U1"] = "account_inactive"
    with pytest.raises(DeliveryFailed, match="account_inactive"):
        await sender(fake, session).send(DM_U1, Message("hi"), key="k")


async def test_outages_and_lost_connections_are_retried(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    fake.outage["chat.postMessage"] = 1
    out = sender(fake, session)
    with pytest.raises(DeliveryRetry, match="http_500") as caught:
        await out.send(C1, Message("hi"), key="k")
    assert caught.value.after is None
    await fake.stop()
    with pytest.raises(DeliveryRetry, match="connection"):
        await out.send(C1, Message("hi"), key="k")


async def test_a_thread_cut_short_resumes_without_reposting_the_parent(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    fake.rate_limits = True  # about one post a second per channel, bursts of three
    fake.retry_after = 1
    out = sender(fake, session)
    message = Message("digest", sections=tuple(Section(f"S{n}", "t") for n in range(4)))
    with pytest.raises(DeliveryRetry) as caught:
        await out.send(C1, message, key="digest:1")
    assert caught.value.after is not None
    deadline = time.monotonic() + 10
    while True:
        try:
            await out.send(C1, message, key="digest:1")
            break
        except DeliveryRetry:
            assert time.monotonic() < deadline
            await asyncio.sleep(1.0)  # the outbox would wait Retry-After
    posts = fake.in_channel("C1")
    assert [p.thread_ts is None for p in posts] == [True, False, False, False, False]
    assert [p.blocks[0]["text"]["text"].split("\n")[0] for p in posts[1:]] == [
        "*S0*",
        "*S1*",
        "*S2*",
        "*S3*",
    ]


async def test_sends_are_paced(fake: FakeSlack, session: aiohttp.ClientSession) -> None:
    out = sender(fake, session, rate=20, burst=2)
    started = time.monotonic()
    for n in range(8):
        await out.send(C1, Message(f"m{n}"), key=f"k{n}")
    # Two at once, then one every 50 ms: at least 6 × 50 ms.
    assert time.monotonic() - started >= 0.28
    assert all(c.status == 200 for c in fake.calls_to("chat.postMessage"))


async def test_remembered_dm_channels_are_bounded(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    config = settings(fake)
    _, sends = make_clients(config, session)
    out = Sender(config, lambda: sends, dm_capacity=2)
    out.remember_dm("U1", "DU1")
    for n in range(3):
        out.remember_dm(f"UO{n}", f"DUO{n}")
    # U1's channel was the least recently used, so it was forgotten and is looked up again.
    await out.send(DM_U1, Message("hi"), key="k")
    assert len(fake.calls_to("users.conversations")) == 1
    assert [p.text for p in fake.dms_to("U1")] == ["hi"]


async def test_half_sent_messages_remembered_are_bounded(
    fake: FakeSlack, session: aiohttp.ClientSession
) -> None:
    fake.rate_limits = True  # about one post a second per channel, bursts of three
    fake.retry_after = 1
    config = settings(fake)
    _, sends = make_clients(config, session)
    out = Sender(config, lambda: sends, progress_capacity=2)
    message = Message("digest", sections=tuple(Section(f"S{n}", "t") for n in range(4)))
    channels = [ChannelRef(Platform.SLACK, "T0001", f"C{n + 10}") for n in range(3)]
    for n, channel in enumerate(channels):
        fake.add_channel(channel.channel, ["U1"])
        with pytest.raises(DeliveryRetry):
            await out.send(channel, message, key=f"digest:{n}")
    # The newest half-sent thread is resumed from memory; the oldest was forgotten, so whether
    # it went out is looked up in Slack's history like after a restart.
    assert await out.find_sent(channels[2], "digest:2") is None
    assert fake.calls_to("conversations.history") == []
    assert await out.find_sent(channels[0], "digest:0") is not None
    assert len(fake.calls_to("conversations.history")) == 1

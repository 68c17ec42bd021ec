from __future__ import annotations

import asyncio
from types import SimpleNamespace

import discord
import pytest
from discord.http import Route

from bot.errors import DeliveryRetry
from integrations.discord.adapter import classify
from integrations.discord.http import RoutedHTTPClient, rebase, regateway
from tests.integrations.discord.conftest import StartBot
from tests.integrations.discord.helpers import run
from tests.support.fake_discord import FakeDiscord

DEFAULT = "https://discord.com/api/v10"


def test_rebase_moves_only_discords_own_urls() -> None:
    proxy = "http://proxy:8080/api/v10/"
    assert rebase(f"{DEFAULT}/channels/1/messages", proxy) == (
        "http://proxy:8080/api/v10/channels/1/messages"
    )
    assert rebase(f"{DEFAULT}/users/@me", "") == f"{DEFAULT}/users/@me"
    assert rebase("https://cdn.discordapp.com/x.png", proxy) == "https://cdn.discordapp.com/x.png"


def test_regateway_keeps_the_query_and_leaves_resume_urls_alone() -> None:
    url = "wss://gateway.discord.gg/?v=10&encoding=json&compress=zlib-stream"
    assert regateway(url, "ws://127.0.0.1:9/gateway") == (
        "ws://127.0.0.1:9/gateway?v=10&encoding=json&compress=zlib-stream"
    )
    resume = "wss://gateway-us-east1-b.discord.gg/?v=10&encoding=json"
    assert regateway(resume, "ws://127.0.0.1:9/gateway") == resume
    assert regateway(url, "") == url


async def test_two_clients_with_two_bases_do_not_meet() -> None:
    loop = asyncio.get_running_loop()
    one = RoutedHTTPClient(loop, api_base="http://one/api/v10")
    two = RoutedHTTPClient(loop, api_base="http://two/api/v10")
    assert (one.api_base, two.api_base) == ("http://one/api/v10", "http://two/api/v10")
    assert Route.BASE == DEFAULT
    assert Route("GET", "/users/@me").url == f"{DEFAULT}/users/@me"


async def test_every_call_goes_to_the_configured_base(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=1)
    channel = fake.add_channel(guild, "learning")
    await start_bot()
    # `export` is also the start of `export group`, so on Discord it is `/cycles export mine`.
    iid = await run(fake, guild, channel, fake.humans(guild)[1], "export mine")
    assert fake.callbacks[iid].get("_files"), "the export is attached"
    paths = {(c.method, c.path.split("/")[1]) for c in fake.calls}
    assert {
        ("GET", "users"),
        ("GET", "oauth2"),
        ("GET", "gateway"),
        ("PUT", "applications"),
    } <= paths
    assert ("POST", "interactions") in paths
    assert Route.BASE == DEFAULT


@pytest.mark.parametrize(("header", "after"), [("2.5", 2.5), ("soon", None), (None, None)])
def test_a_rate_limit_with_any_retry_after_is_retried_later(
    header: str | None, after: float | None
) -> None:
    headers = {} if header is None else {"Retry-After": header}
    response = SimpleNamespace(status=429, reason="Too Many Requests", headers=headers)
    error = classify(discord.HTTPException(response, {"code": 0, "message": "slow down"}))
    assert isinstance(error, DeliveryRetry) and error.after == after

"""Pointing discord.py at another REST base and gateway, per client.

discord.py builds every REST URL from the class attribute `discord.http.Route.BASE`; changing it
would redirect every client in the process. Instead each URL is rebased as it is sent: REST calls
in `RoutedHTTPClient.request`, interaction callbacks and follow-ups (which discord.py sends
through its webhook adapter) in `RoutedWebhookAdapter.request`, and the gateway in `ws_connect`.
Nothing global changes, so two clients (or two tests) with different bases never meet."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import discord
import yarl
from aiolimiter import AsyncLimiter
from discord.gateway import DiscordWebSocket
from discord.http import HTTPClient, Route
from discord.webhook.async_ import AsyncWebhookAdapter, async_context

from bot.errors import ConfigError

# Bot REST calls above this many seconds of 429 become DeliveryRetry instead of a long sleep.
MAX_RATELIMIT_SLEEP = 30.0
# The one call that acknowledges an interaction (a reply, a deferral, a modal, an update).
CALLBACK_PATH = "/interactions/{webhook_id}/{webhook_token}/callback"


def rebase(url: str, api_base: str) -> str:
    """`url` built on discord.py's default base, moved onto `api_base` (unchanged if empty)."""
    default = Route.BASE
    if api_base and url.startswith(default):
        return api_base.rstrip("/") + url[len(default) :]
    return url


def regateway(url: str, gateway: str) -> str:
    """discord.py's default gateway URL (with its query) moved onto `gateway`."""
    if not gateway:
        return url
    parsed = yarl.URL(url)
    if parsed.with_query(None) != DiscordWebSocket.DEFAULT_GATEWAY:
        return url  # a resume URL the gateway itself handed out
    return str(yarl.URL(gateway).with_query(parsed.query))


class RoutedHTTPClient(HTTPClient):
    """discord.py's REST client with its own base URL, gateway URL and global pacing."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        api_base: str = "",
        gateway: str = "",
        limiter: AsyncLimiter | None = None,
    ) -> None:
        super().__init__(loop, max_ratelimit_timeout=MAX_RATELIMIT_SLEEP)
        self.api_base = api_base
        self.gateway = gateway
        self.limiter = limiter

    async def request(self, route: Route, **kwargs: Any) -> Any:
        route.url = rebase(route.url, self.api_base)
        if self.limiter is not None:
            await self.limiter.acquire()
        return await super().request(route, **kwargs)

    async def ws_connect(self, url: str, *, compress: int = 0) -> aiohttp.ClientWebSocketResponse:
        return await super().ws_connect(regateway(url, self.gateway), compress=compress)


class RoutedWebhookAdapter(AsyncWebhookAdapter):
    """Interaction responses and follow-ups, rebased like every other REST call. `on_ack` hears
    of every first response to an interaction (its callback) once Discord took it."""

    def __init__(self, api_base: str, on_ack: Callable[[int], None] | None = None) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.api_base = api_base
        self.on_ack = on_ack

    async def request(self, route: Route, session: aiohttp.ClientSession, **kwargs: Any) -> Any:
        route.url = rebase(route.url, self.api_base)
        answer = await super().request(route, session, **kwargs)
        if route.path == CALLBACK_PATH and self.on_ack is not None:
            self.on_ack(int(route.webhook_id or 0))
        return answer


def use_webhook_adapter(adapter: AsyncWebhookAdapter) -> None:
    """Route this task's interaction responses through `adapter`.

    discord.py reads its webhook adapter from a context variable; each event handler runs in a
    task of its own (with a copy of the context), so setting it there changes only that task."""
    async_context.set(adapter)


def install(
    client: discord.Client, *, api_base: str, gateway: str, limiter: AsyncLimiter | None
) -> RoutedHTTPClient:
    """Swap the client's REST client for a routed one (before login)."""
    http = RoutedHTTPClient(client.loop, api_base=api_base, gateway=gateway, limiter=limiter)
    client.http = http
    client._connection.http = http
    return http


async def discover_gateway(http: RoutedHTTPClient) -> str:
    """`GET {api_base}/gateway/bot` -> the gateway URL the REST base hands out."""
    try:
        _shards, url, _limits = await http.get_bot_gateway()
    except discord.DiscordException as exc:
        raise ConfigError(
            f"discord: GET {http.api_base}/gateway/bot failed ({exc}). Fix: check "
            "DISCORD_API_URL, or set DISCORD_GATEWAY_URL."
        ) from None
    return str(url)

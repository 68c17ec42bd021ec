"""The Bot Connector side: credentials for the SDK (MSAL with TEAMS_APP_ID and
TEAMS_APP_PASSWORD, or none at all in anonymous mode), REST clients for proactive calls, and
what a failed call means for the outbox.

Configuration is built from the bot's own settings, not the SDK's `CONNECTIONS__…` variables,
so the same `TEAMS_*` names and `[teams]` section work everywhere."""

from __future__ import annotations

import random
import time
from typing import Any

import aiohttp
from microsoft_agents.authentication.msal import MsalAuth
from microsoft_agents.hosting.core import (
    AccessTokenProviderBase,
    AgentAuthConfiguration,
    AnonymousTokenProvider,
    ClaimsIdentity,
)
from microsoft_agents.hosting.core.connector.teams import TeamsConnectorClient

from bot.config import TeamsSettings
from bot.errors import ConfigError, DeliveryError, DeliveryFailed, DeliveryRetry
from integrations.common.errors import retry_after

# The Bot Connector's audience and scope for app tokens.
BOT_FRAMEWORK = "https://api.botframework.com"
SCOPES = [f"{BOT_FRAMEWORK}/.default"]
# Tokens last an hour; a client is made again well before that.
CLIENT_SECONDS = 30 * 60
# Teams asks for a retry on these (throttled, precondition failed, gateway errors).
RETRY_STATUS = {408, 412, 429, 500, 502, 503, 504}
# Without a Retry-After: exponential from 2 s, up to 5 minutes, each wait drawn from half to the
# whole of it (jitter), so members throttled together do not retry together.
FIRST_BACKOFF_SECONDS = 2.0
MAX_BACKOFF_SECONDS = 300.0


def auth_configuration(settings: TeamsSettings) -> AgentAuthConfiguration:
    """The SDK's view of our credentials; a missing one fails at start, naming the fix."""
    if settings.allow_anonymous and not settings.app_id:
        return AgentAuthConfiguration(anonymous_allowed=True)
    if not settings.app_password.get_secret_value():
        raise ConfigError(
            "config: TEAMS_APP_PASSWORD is not set. Fix: create a client secret for the bot's "
            "app registration in Azure (Certificates & secrets) and set it, or set "
            "[teams] allow_anonymous = true for local use without Azure."
        )
    return AgentAuthConfiguration(
        client_id=settings.app_id,
        tenant_id=settings.tenant_id or None,
        client_secret=settings.app_password.get_secret_value(),
        anonymous_allowed=settings.allow_anonymous,
    )


class Connections:
    """The SDK's `Connections`: one connection, MSAL for a registered bot, anonymous else."""

    def __init__(self, configuration: AgentAuthConfiguration) -> None:
        self._configuration = configuration
        self._provider: AccessTokenProviderBase = (
            MsalAuth(configuration) if configuration.CLIENT_ID else AnonymousTokenProvider()
        )

    def get_connection(self, connection_name: str | None) -> AccessTokenProviderBase:
        return self._provider

    def get_default_connection(self) -> AccessTokenProviderBase:
        return self._provider

    def get_token_provider(
        self, claims_identity: ClaimsIdentity, service_url: str
    ) -> AccessTokenProviderBase:
        return self._provider

    def get_token_provider_from_activity(
        self, *args: Any, **kwargs: Any
    ) -> AccessTokenProviderBase:
        return self._provider

    def get_default_connection_configuration(self) -> AgentAuthConfiguration:
        return self._configuration


class Clients:
    """A connector client per Bot Connector address, made again before its token expires."""

    def __init__(self, connections: Connections) -> None:
        self._connections = connections
        self._clients: dict[str, tuple[float, TeamsConnectorClient]] = {}

    async def get(self, service_url: str) -> TeamsConnectorClient:
        made = self._clients.get(service_url)
        if made is not None and time.monotonic() - made[0] < CLIENT_SECONDS:
            return made[1]
        token = await self._connections.get_default_connection().get_access_token(
            BOT_FRAMEWORK, SCOPES
        )
        client = TeamsConnectorClient(endpoint=service_url.rstrip("/") + "/", token=token or "")
        self._clients[service_url] = (time.monotonic(), client)
        if made is not None:
            await made[1].close()
        return client

    async def close(self) -> None:
        clients, self._clients = self._clients, {}
        for _, client in clients.values():
            await client.close()


def backoff(failures: int) -> float:
    """Seconds to wait after the `failures`-th failure in a row (1 for the first), jittered."""
    ceiling = min(FIRST_BACKOFF_SECONDS * 2 ** max(failures - 1, 0), MAX_BACKOFF_SECONDS)
    return random.uniform(ceiling / 2, ceiling)


def classify(exc: BaseException, failures: int = 1) -> DeliveryError:
    """A failed Bot Connector call -> retry later (throttled, gateway, network) or give up
    (blocked, removed, refused). `failures`: how many times in a row this one failed."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, aiohttp.ClientResponseError):
        status = exc.status
        if status in RETRY_STATUS:
            after = retry_after(exc.headers.get("Retry-After") if exc.headers else None)
            if after is None:
                after = backoff(failures)
            else:
                after += random.uniform(0, 0.5)  # jitter: members throttled together spread out
            return DeliveryRetry(f"Teams answered {status}", after)
        if status == 403:
            return DeliveryFailed(
                "unreachable on Teams: the bot was removed or blocked (403 MessageWritesBlocked)"
            )
        if status == 401:
            return DeliveryRetry("Teams refused the bot's token (401)", backoff(failures))
        return DeliveryFailed(f"Teams refused the message ({status})")
    if isinstance(exc, aiohttp.ClientError | TimeoutError | OSError):
        return DeliveryRetry(f"cannot reach Teams ({type(exc).__name__})", backoff(failures))
    return DeliveryRetry(type(exc).__name__, backoff(failures))

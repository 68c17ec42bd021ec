"""The Web API clients, and what a Slack failure means for a delivery.

Two clients share one HTTP session: `reads` retries rate limits and connection drops itself
(looking up users or opening a modal may wait a moment); `sends` never retries, because a
repeated chat.postMessage could post twice. Its failures become DeliveryRetry or DeliveryFailed
and the outbox decides when to try again."""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SlackSettings
from bot.errors import DeliveryError, DeliveryRetry
from integrations.common.errors import by_status, unreachable
from integrations.common.errors import retry_after as parse_retry_after

DEFAULT_API_URL = "https://slack.com/api/"
TIMEOUT_SECONDS = 30

# Errors Slack answers with HTTP 200 and ok:false that are worth another try later.
TRANSIENT = {
    "ratelimited",
    "rate_limited",
    "internal_error",
    "fatal_error",
    "service_unavailable",
    "request_timeout",
    "team_added_to_org",
}
# Errors a retry will not fix for this recipient; everything else unknown counts as permanent.
PERMANENT_HINTS = {
    "user_not_found": "the user is not in the workspace",
    "cannot_dm_bot": "that user is a bot",
    "account_inactive": "the account is deactivated",
    "user_disabled": "the account is deactivated",
    "channel_not_found": "the channel was not found (is the app invited?)",
    "not_in_channel": "the app is not in the channel",
    "is_archived": "the channel is archived",
    "messages_tab_disabled": "the person turned off messages from apps",
    "restricted_action": "the workspace does not allow this post",
}


def api_base_url(settings: SlackSettings) -> str:
    url = settings.api_url.strip() or DEFAULT_API_URL
    return url if url.endswith("/") else url + "/"


def sdk_logger() -> logging.Logger:
    """slack_sdk and slack_bolt log request and message bodies at DEBUG. Member text must never
    reach a log line, so their loggers never go below INFO, whatever the bot's level."""
    for name in ("slack_sdk", "slack_bolt"):
        library = logging.getLogger(name)
        if library.getEffectiveLevel() < logging.INFO:
            library.setLevel(logging.INFO)
    return logging.getLogger("slack_sdk.cycles")


def bolt_logger() -> logging.Logger:
    """The base logger for bolt: bolt copies its level onto every logger it makes (otherwise it
    copies the root's), and at INFO it logs the body of a request whose signature failed."""
    logger = logging.getLogger("slack_bolt.cycles")
    logger.setLevel(logging.WARNING)
    return logger


def make_clients(
    settings: SlackSettings, session: aiohttp.ClientSession
) -> tuple[AsyncWebClient, AsyncWebClient]:
    """(reads, sends) against settings.api_url (SLACK_API_URL) or slack.com."""
    common = {
        "token": settings.bot_token.get_secret_value(),
        "base_url": api_base_url(settings),
        "timeout": TIMEOUT_SECONDS,
        "session": session,
        "logger": sdk_logger(),
    }
    reads = AsyncWebClient(
        **common,  # type: ignore[arg-type]
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(max_retry_count=2),
            AsyncRateLimitErrorRetryHandler(max_retry_count=3),
        ],
    )
    sends = AsyncWebClient(**common, retry_handlers=[])  # type: ignore[arg-type]
    return reads, sends


def error_code(exc: SlackApiError) -> str:
    data = exc.response.data if isinstance(exc.response.data, dict) else {}
    return str(data.get("error") or f"http_{exc.response.status_code}")


def retry_after(exc: SlackApiError) -> float | None:
    headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
    return parse_retry_after(headers.get("retry-after"))


def classify(exc: BaseException) -> DeliveryError:
    """A failed Web API call as the outbox understands it. The reason never carries a token or
    message text: Slack's error code, an HTTP status, or an exception type."""
    if isinstance(exc, SlackApiError):
        code = error_code(exc)
        # Slack answers most refusals with 200 and an error code; its rate limit code is a 429.
        status = 429 if code in ("ratelimited", "rate_limited") else exc.response.status_code
        headers = {k.lower(): v for k, v in (exc.response.headers or {}).items()}
        return by_status(
            status,
            code,
            after=headers.get("retry-after"),
            transient=TRANSIENT,
            hints=PERMANENT_HINTS,
        )
    if isinstance(exc, aiohttp.ClientError | asyncio.TimeoutError | OSError):
        return unreachable(exc)
    if isinstance(exc, SlackClientError):
        return DeliveryRetry(f"client: {type(exc).__name__}")
    return DeliveryRetry(type(exc).__name__)

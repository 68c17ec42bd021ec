"""The Slack adapter: the seam (start, stop, send, channel_members) over slack-bolt's AsyncApp,
in Socket Mode (an app token, no public URL) or HTTP mode (a signed /slack/events endpoint)."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Literal

import aiohttp
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from bot.config import SlackSettings
from bot.domain import ChannelRef, MemberInfo, Message, Platform
from bot.errors import ConfigError, DeliveryRetry
from bot.ports import Port
from integrations.common.inflight import InFlight
from integrations.slack.delivery import Sender
from integrations.slack.http import EVENTS_PATH, HttpServer
from integrations.slack.identity import Directory
from integrations.slack.listeners import STOP_GRACE_SECONDS, Interactions, register
from integrations.slack.web import (
    api_base_url,
    bolt_logger,
    error_code,
    make_clients,
    sdk_logger,
)

log = logging.getLogger(__name__)

Mode = Literal["socket", "http"]

SOCKET_CONNECT_SECONDS = 30.0
AUTH_ERRORS = {"invalid_auth", "not_authed", "token_revoked", "account_inactive", "token_expired"}


def resolve_mode(settings: SlackSettings) -> Mode:
    """Socket Mode when asked for, or in `auto` when an app token is set; HTTP mode otherwise.
    A missing secret fails here, at start, with one line naming it."""
    app_token = settings.app_token.get_secret_value()
    if settings.mode == "socket" or (settings.mode == "auto" and app_token):
        if not app_token:
            raise ConfigError(
                "config: slack.mode = 'socket' needs SLACK_APP_TOKEN. Fix: set SLACK_APP_TOKEN "
                "(xapp-…, with connections:write), or use slack.mode = 'http'."
            )
        return "socket"
    if not settings.signing_secret.get_secret_value():
        raise ConfigError(
            "config: SLACK_SIGNING_SECRET is not set; HTTP mode needs it to verify requests. "
            "Fix: set it from the app's Basic Information page, or set SLACK_APP_TOKEN to use "
            "Socket Mode."
        )
    return "http"


class SlackAdapter:
    platform = Platform.SLACK

    def __init__(self, port: Port) -> None:
        self.port = port
        self.settings = port.settings.slack
        self.mode: Mode = resolve_mode(self.settings)
        self.directory = Directory(port.settings, self.reads)
        self.sender = Sender(self.settings, self.sends)
        self.interactions = Interactions(self)
        self.http: HttpServer | None = None
        self.socket: AsyncSocketModeHandler | None = None
        self.team_id = ""
        self.bot_user_id = ""
        self._session: aiohttp.ClientSession | None = None
        self._clients: tuple[AsyncWebClient, AsyncWebClient] | None = None
        self._sending = InFlight()
        self._accepting = False
        self._closing = False
        self._stopped = False

    # --- Web API clients (made on first use, inside the running loop) ----------------------

    def _web(self) -> tuple[AsyncWebClient, AsyncWebClient]:
        if self._stopped:
            raise DeliveryRetry("the Slack adapter is stopped")
        if self._clients is None:
            self._session = aiohttp.ClientSession()
            self._clients = make_clients(self.settings, self._session)
        return self._clients

    def reads(self) -> AsyncWebClient:
        return self._web()[0]

    def sends(self) -> AsyncWebClient:
        return self._web()[1]

    async def respond(self, url: str, payload: dict[str, Any]) -> bool:
        """POST an answer to a response URL on the clients' HTTP session. (bolt's `respond`
        opens a session, so a connection, per answer: under load that was a third of the
        bot's time after acknowledging a command.)"""
        self._web()
        assert self._session is not None
        client = AsyncWebhookClient(url=url, session=self._session, logger=sdk_logger())
        # The webhook client reports a refusal (an expired URL, Slack's outage) as a status,
        # not an exception: False lets the caller answer another way instead of going silent.
        return (await client.send_dict(payload)).status_code < 400

    # --- the seam --------------------------------------------------------------------------

    async def start(self) -> None:
        """Check the token, then listen (Socket Mode connected, or the HTTP port bound)."""
        self._stopped = self._closing = False
        try:
            await self._listen()
        except BaseException:
            await self._close_session()
            raise

    async def _listen(self) -> None:
        await self._check_token()
        bolt = self._bolt(gated=self.mode == "socket")
        if self.mode == "socket":
            handler = AsyncSocketModeHandler(
                bolt,
                app_token=self.settings.app_token.get_secret_value(),
                web_client=self.reads(),
                logger=sdk_logger(),
            )
            handler.client.wss_uri = await self._socket_url()
            self._accepting = True
            try:
                # The client retries a failed connection forever; at start, fail plainly instead.
                await asyncio.wait_for(handler.connect_async(), SOCKET_CONNECT_SECONDS)  # type: ignore[no-untyped-call]
            except TimeoutError:
                await handler.close_async()  # type: ignore[no-untyped-call]
                raise ConfigError(
                    "slack: the Socket Mode connection did not open within "
                    f"{SOCKET_CONNECT_SECONDS:.0f}s. Fix: check the network (wss:// to Slack)."
                ) from None
            self.socket = handler
            log.info("slack: connected in Socket Mode (team %s)", self.team_id)
        else:
            server = HttpServer(
                bolt,
                self.port.listener(self.settings.http_host, self.settings.http_port),
                self.settings.signing_secret.get_secret_value(),
                arrived=self._arrived,
                acked=self._acked,
            )
            self._accepting = True
            server.start()
            self.http = server
            log.info("slack: HTTP mode (%s)", EVENTS_PATH)

    async def stop(self) -> None:
        """Refuse new requests, let acknowledged work and sends under way finish (an aborted
        chat.postMessage might have posted), then disconnect. Sends asked for after this point
        get DeliveryRetry: the outbox keeps them for the next start."""
        self._accepting = False
        if self.http is not None:
            self.http.refuse()
        if not await self.interactions.inflight.wait(STOP_GRACE_SECONDS):
            log.warning("slack: stopped with interactions still running")
        self._closing = True
        if not await self._sending.wait(STOP_GRACE_SECONDS):
            log.warning("slack: stopped with a send still running")
        if self.socket is not None:
            await self.socket.close_async()  # type: ignore[no-untyped-call]
            self.socket = None
        if self.http is not None:
            self.http.close()
            self.http = None
        self._stopped = True
        await self._close_session()

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.close()
        self._session, self._clients = None, None

    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        if self._closing:
            raise DeliveryRetry("the Slack adapter is stopping")
        async with self._sending.hold():
            return await self.sender.send(to, message, key=key)

    async def find_sent(self, to: ChannelRef, key: str) -> str | None:
        """Whether a delivery the outbox is about to retry was posted already (see Sender)."""
        if self._closing:
            raise DeliveryRetry("the Slack adapter is stopping")
        async with self._sending.hold():
            return await self.sender.find_sent(to, key)

    async def channel_members(self, channel: ChannelRef) -> list[MemberInfo]:
        return await self.directory.channel_members(channel.channel)

    # --- setup -----------------------------------------------------------------------------

    def _arrived(self) -> None:
        self.interactions.acks_first.arrived()

    def _acked(self, seconds: float) -> None:
        self.port.metrics.observe_ack("slack", seconds)

    def _bolt(self, *, gated: bool) -> AsyncApp:
        """The bolt app. `gated`: with a middleware that refuses while stopping and times each
        acknowledgement (Socket Mode); in HTTP mode the server does that before bolt, sparing
        every request a middleware call (http.py)."""
        bolt = AsyncApp(
            name="learning-cycles",
            logger=bolt_logger(),
            client=self.reads(),
            signing_secret=self.settings.signing_secret.get_secret_value(),
            process_before_response=False,
            # HTTP mode checks every signature before bolt sees the request (http.py), and
            # Socket Mode has none to check: bolt's own check would be the same work again.
            request_verification_enabled=False,
        )

        async def gate(resp: BoltResponse, next: Any) -> BoltResponse:
            # While stopping, nothing new is taken: no ack, so Slack delivers it again later.
            if not self._accepting:
                return BoltResponse(status=503, body="stopping")
            self._arrived()
            started = time.perf_counter()
            await next()  # returns once the listener acknowledged (its slow work runs on)
            self._acked(time.perf_counter() - started)
            return resp

        async def failed(error: Exception) -> BoltResponse:
            # A payload bolt or a listener could not handle: one line, no trace, and a 400
            # (when it is not acknowledged yet; a listener's own failures answer the person).
            log.warning("slack: could not handle a request (%s)", type(error).__name__)
            return BoltResponse(status=400, body="bad request")

        if gated:
            bolt.middleware(gate)
        bolt.error(failed)
        register(bolt, self.interactions)
        return bolt

    async def _check_token(self) -> None:
        try:
            auth = await self.reads().auth_test()
        except SlackApiError as exc:
            code = error_code(exc)
            if code in AUTH_ERRORS:
                raise ConfigError(
                    f"slack: SLACK_BOT_TOKEN was refused ({code}). Fix: copy the Bot User OAuth "
                    "Token (xoxb-…) from the app's OAuth & Permissions page."
                ) from None
            raise ConfigError(f"slack: auth.test failed ({code}). Fix: check the app.") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise ConfigError(
                f"slack: cannot reach {api_base_url(self.settings)} ({type(exc).__name__}). "
                "Fix: check the network, or SLACK_API_URL."
            ) from None
        self.team_id = str(auth.get("team_id") or "")
        self.bot_user_id = str(auth.get("user_id") or "")

    async def _socket_url(self) -> str:
        try:
            response = await self.reads().apps_connections_open(
                app_token=self.settings.app_token.get_secret_value()
            )
        except SlackApiError as exc:
            raise ConfigError(
                f"slack: SLACK_APP_TOKEN was refused ({error_code(exc)}). Fix: create an "
                "app-level token with connections:write (Basic Information → App-Level Tokens) "
                "and enable Socket Mode."
            ) from None
        return str(response["url"])

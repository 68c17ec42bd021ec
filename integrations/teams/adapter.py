"""The Teams adapter: the seam (start, stop, send, channel_members) over the Microsoft 365 Agents
SDK's aiohttp CloudAdapter, serving POST /api/messages on the listener for `[teams]`'s host and
port (which it may share with Slack's HTTP mode, and which serves GET /healthz; bot/listener.py).

Every request's Bot Framework token is checked by the SDK's JWT validation (401 without a valid
one). `[teams] allow_anonymous = true` turns that off for local use without Azure: then the bot
has no credentials either, and says so in one warning line at start."""

from __future__ import annotations

import logging
import warnings

from aiohttp import web
from microsoft_agents.hosting.aiohttp import CloudAdapter, jwt_authorization_decorator
from microsoft_agents.hosting.core import TurnContext
from pydantic import ValidationError

from bot.domain import ChannelRef, MemberInfo, Message, Platform
from bot.errors import DeliveryRetry
from bot.ports import Listener, Port
from integrations.common.errors import log_failure
from integrations.common.inflight import InFlight
from integrations.teams.connector import Clients, Connections, auth_configuration, classify
from integrations.teams.delivery import Sender
from integrations.teams.directory import Directory
from integrations.teams.turns import Turns

log = logging.getLogger(__name__)

PREFIX = "/api"
MESSAGES_PATH = f"{PREFIX}/messages"
STOP_GRACE_SECONDS = 30.0
USER_TOKEN_LOGGER = "microsoft_agents.hosting.core.connector.client.user_token_client"
# The SDK logs every refused call at ERROR, a 429 it will retry included; the outbox and the
# turns log what a failure meant, once.
CONNECTOR_LOGGER = "microsoft_agents.hosting.core.connector.client.connector_client"


class TeamsAdapter:
    platform = Platform.TEAMS

    def __init__(self, port: Port) -> None:
        self.port = port
        self.settings = port.settings.teams
        self.auth = auth_configuration(self.settings)  # a missing secret fails here, at start
        self.clients = Clients(Connections(self.auth))
        self.directory = Directory(port.store)
        self.sender = Sender(self.settings, self.clients, self.directory)
        self.turns = Turns(port, self.sender, self.directory)
        self.cloud = CloudAdapter(connection_manager=Connections(self.auth))
        self.cloud.on_turn_error = self._turn_failed
        self.host = self.settings.http_host
        self.listener: Listener | None = None
        self._requests = InFlight()
        self._sending = InFlight()
        self._accepting = False
        self._closing = False

    @property
    def http_port(self) -> int:
        """The port bound, once the app has started (`[teams] http_port` 0 picks a free one)."""
        return self.settings.http_port if self.listener is None else self.listener.port

    def web_app(self) -> web.Application:
        """The routes mounted under /api. A sub-application of the shared listener: in its
        handlers `request.app` is this one, where the SDK's token check reads its configuration
        by a plain string key (aiohttp would prefer an AppKey; the SDK cannot use ours)."""
        app = web.Application()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", web.NotAppKeyWarning)
            app["agent_configuration"] = self.auth
        checked = jwt_authorization_decorator(self.messages)  # type: ignore[no-untyped-call]
        app.router.add_post(MESSAGES_PATH.removeprefix(PREFIX), checked)
        return app

    async def messages(self, request: web.Request) -> web.StreamResponse:
        if not self._accepting:  # stopping: the Bot Connector retries later or elsewhere
            return web.json_response({"error": "stopping"}, status=503)
        async with self._requests.hold():
            try:
                response = await self.cloud.process(request, self.turns)
            except ValidationError:
                log.info("teams: refused a malformed activity")
                return web.json_response({"error": "malformed activity"}, status=400)
        return response if response is not None else web.Response(status=202)

    async def _turn_failed(self, context: TurnContext, error: Exception) -> None:
        # The SDK's default prints the trace and sends the exception's text to the person.
        log_failure(log, "teams: a turn", error)

    # --- the seam --------------------------------------------------------------------------

    async def start(self) -> None:
        """Mount /api/messages on the listener for `[teams]`'s host and port; the app binds it
        once every adapter has mounted."""
        self._closing = False
        self.listener = self.port.listener(self.host, self.settings.http_port)
        self.listener.mount("teams", PREFIX, self.web_app(), lambda: self._accepting)
        self._accepting = True
        logging.getLogger(CONNECTOR_LOGGER).setLevel(logging.CRITICAL)
        if self.auth.ANONYMOUS_ALLOWED:
            # Without an App ID the SDK warns on every request that it has none: said once here.
            logging.getLogger(USER_TOKEN_LOGGER).setLevel(logging.ERROR)
            log.warning(
                "teams: anonymous mode: %s accepts requests without a token. Use it only "
                "locally ([teams] allow_anonymous).",
                MESSAGES_PATH,
            )
        log.info("teams: serving %s", MESSAGES_PATH)

    async def stop(self) -> None:
        """Refuse new requests, finish the ones taken and the send under way, then close.
        Sends asked for after this point get DeliveryRetry: the outbox keeps them."""
        self._accepting = False
        if not await self._requests.wait(STOP_GRACE_SECONDS):
            log.warning("teams: stopped with requests still running")
        if not await self.turns.late.wait(STOP_GRACE_SECONDS):
            log.warning("teams: stopped with answers still to send")
        self._closing = True
        if not await self._sending.wait(STOP_GRACE_SECONDS):
            log.warning("teams: stopped with a send still running")
        await self.clients.close()  # the app closes the listener once every adapter on it stopped

    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        if self._closing:
            raise DeliveryRetry("the Teams adapter is stopping")
        async with self._sending.hold():
            return await self.sender.send(to, message, key=key)

    async def channel_members(self, channel: ChannelRef) -> list[MemberInfo]:
        try:
            return await self.sender.members(channel)
        except Exception as exc:
            raise classify(exc) from None

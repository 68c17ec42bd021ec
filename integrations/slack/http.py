"""HTTP mode: POST /slack/events (events, slash commands and interactivity), mounted on the
listener for `[slack]`'s host and port, which it may share with Teams and which serves GET
/healthz for load balancers (bot/listener.py). A request is signature-checked and parsed here
(see payloads.py) before bolt sees it: unsigned is 401, malformed is 400, never a 500."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from bot.ports import Listener
from integrations.slack.payloads import BadRequest, parse, signed

log = logging.getLogger(__name__)

PREFIX = "/slack"
EVENTS_PATH = f"{PREFIX}/events"


class HttpServer:
    def __init__(
        self,
        bolt: AsyncApp,
        listener: Listener,
        signing_secret: str,
        *,
        arrived: Callable[[], None] = lambda: None,
        acked: Callable[[float], None] = lambda seconds: None,
    ) -> None:
        self.bolt = bolt
        self.signing_secret = signing_secret
        self.listener = listener
        self.accepting = False
        self.arrived = arrived  # told of every signed request, before bolt sees it
        self.acked = acked  # how long bolt took to acknowledge it

    @property
    def host(self) -> str:
        return self.listener.host

    @property
    def port(self) -> int:
        """The port bound, once the app has started (`[slack] http_port` 0 picks a free one)."""
        return self.listener.port

    def web_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(EVENTS_PATH.removeprefix(PREFIX), self.events)
        return app

    async def events(self, request: web.Request) -> web.Response:
        if not self.accepting:  # stopping: Slack retries events elsewhere or later
            return web.json_response({"ok": False, "error": "stopping"}, status=503)
        body = await request.read()
        headers = request.headers
        if not signed(
            self.signing_secret,
            body,
            headers.get("X-Slack-Request-Timestamp"),
            headers.get("X-Slack-Signature"),
        ):
            return web.Response(status=401, text="invalid signature")
        try:
            text, payload = parse(body, request.content_type)
        except BadRequest as exc:
            log.info("slack: refused a malformed request (%s)", exc)
            return web.Response(status=400, text=f"bad request: {exc}")
        # bolt gets the body as parsed here, not its own parse of the same text (see
        # payloads.py): made with an empty body, it parses nothing a second time.
        bolt_request = AsyncBoltRequest(body="", query=request.query_string, headers=dict(headers))
        bolt_request.raw_body = text  # as received (checked above; bolt does not check again)
        bolt_request.body = payload
        bolt_request.context = build_async_context(AsyncBoltContext({}), payload)
        self.arrived()
        started = time.perf_counter()
        response = await self.bolt.async_dispatch(bolt_request)  # once acknowledged
        self.acked(time.perf_counter() - started)
        return await to_aiohttp_response(response)

    def start(self) -> None:
        """Mount /slack/events on the listener; it serves once the app binds its listeners."""
        self.listener.mount("slack", PREFIX, self.web_app(), lambda: self.accepting)
        self.accepting = True

    def refuse(self) -> None:
        """Stop taking new requests (they get 503) while in-flight work finishes."""
        self.accepting = False

    def close(self) -> None:
        """Refuse for good: the app closes the listener once every adapter on it stopped."""
        self.accepting = False

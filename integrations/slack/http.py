"""HTTP mode: one aiohttp server with POST /slack/events (events, slash commands and
interactivity) and GET /healthz for load balancers. A request is signature-checked and parsed
here (see payloads.py) before bolt sees it: unsigned is 401, malformed is 400, never a 500."""

from __future__ import annotations

import logging

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncApp
from slack_bolt.context.async_context import AsyncBoltContext
from slack_bolt.request.async_internals import build_async_context
from slack_bolt.request.async_request import AsyncBoltRequest

from integrations.slack.payloads import BadRequest, parse, signed

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class HttpServer:
    def __init__(self, bolt: AsyncApp, host: str, port: int, signing_secret: str) -> None:
        self.bolt = bolt
        self.signing_secret = signing_secret
        self.host = host
        self.port = port
        self.accepting = False
        self._runner: web.AppRunner | None = None

    def web_app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(EVENTS_PATH, self.events)
        app.router.add_get(HEALTH_PATH, self.health)
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
        try:
            bolt_request = AsyncBoltRequest(
                body=text, query=request.query_string, headers=dict(headers)
            )
        except ValueError:  # bolt's own parse of the same text
            return web.Response(status=400, text="bad request: the body is malformed")
        # The listeners get the body as parsed here, not bolt's guess (see payloads.py).
        bolt_request.body = payload
        bolt_request.context = build_async_context(AsyncBoltContext({}), payload)
        return await to_aiohttp_response(await self.bolt.async_dispatch(bolt_request))

    async def health(self, request: web.Request) -> web.Response:
        if not self.accepting:
            return web.json_response({"ok": False, "status": "stopping"}, status=503)
        return web.json_response({"ok": True})

    async def start(self) -> None:
        """Listen; returns once the port is bound. Port 0 picks a free one (see `self.port`)."""
        runner = web.AppRunner(self.web_app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        await site.start()
        self._runner = runner
        if runner.addresses:
            self.port = int(runner.addresses[0][1])
        self.accepting = True

    def refuse(self) -> None:
        """Stop taking new requests (they get 503) while in-flight work finishes."""
        self.accepting = False

    async def close(self) -> None:
        self.accepting = False
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

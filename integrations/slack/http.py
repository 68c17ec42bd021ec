"""HTTP mode: one aiohttp server with POST /slack/events (events, slash commands and
interactivity, signature-checked by bolt) and GET /healthz for load balancers."""

from __future__ import annotations

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncApp

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


class HttpServer:
    def __init__(self, bolt: AsyncApp, host: str, port: int) -> None:
        self.bolt = bolt
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
        bolt_response = await self.bolt.async_dispatch(await to_bolt_request(request))
        return await to_aiohttp_response(bolt_response)

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

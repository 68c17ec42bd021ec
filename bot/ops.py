"""GET /healthz and GET /metrics on their own port (`[ops]`), whatever platforms run.

A separate port keeps them independent of Slack's HTTP mode (which has its own /healthz for the
load balancer in front of /slack/events) and reachable in Socket Mode and on Discord, where
nothing else listens. /healthz answers 503 while starting or stopping, so a load balancer or
orchestrator stops routing to a replica that is draining; the database's state is reported but
does not fail the check (every replica would fail together, and restarting them helps nobody)."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from aiohttp import web
from sqlalchemy import func, select, text

from bot.config import OpsSettings
from bot.metrics import CONTENT_TYPE, Metrics
from bot.store.database import Database
from bot.store.models import Delivery, Digest

log = logging.getLogger(__name__)

HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
DB_CHECK_SECONDS = 2.0


class Served(Protocol):
    """What the two endpoints read from the running bot (bot.app.App is one). A protocol, not
    the App itself: the composition root imports this module, so this one cannot import it."""

    @property
    def state(self) -> str: ...

    @property
    def scheduler_role(self) -> str: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def db(self) -> Database: ...


class OpsServer:
    def __init__(self, app: Served, settings: OpsSettings, *, share: bool = False) -> None:
        self.app = app
        self.share = share  # as the platforms' listeners (bot.share_ports)
        self.host = settings.host
        self.port = settings.port
        self._runner: web.AppRunner | None = None

    def web_app(self) -> web.Application:
        web_app = web.Application()
        web_app.router.add_get(HEALTH_PATH, self.health)
        web_app.router.add_get(METRICS_PATH, self.metrics)
        return web_app

    async def start(self) -> None:
        """Listen; returns once bound. Port 0 picks a free one (see `self.port`)."""
        runner = web.AppRunner(self.web_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, self.host, self.port, reuse_port=self.share).start()
        self._runner = runner
        if runner.addresses:
            self.port = int(runner.addresses[0][1])
        log.info("ops: /healthz and /metrics on %s:%s", self.host, self.port)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def health(self, request: web.Request) -> web.Response:
        state = self.app.state
        body = {
            "ok": state == "running",
            "state": state,
            "scheduler": self.app.scheduler_role,
            "database": await self._database(),
        }
        return web.json_response(body, status=200 if body["ok"] else 503)

    async def metrics(self, request: web.Request) -> web.Response:
        try:
            outbox, digests = await asyncio.wait_for(self._counts(), DB_CHECK_SECONDS)
        except Exception as exc:  # the last known values stay; the scrape still answers
            log.warning("metrics: database counts unavailable (%s)", type(exc).__name__)
        else:
            self.app.metrics.set_counts(outbox, digests)
        self.app.metrics.scheduler_leader.set(1 if self.app.scheduler_role == "leader" else 0)
        return web.Response(body=self.app.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def _database(self) -> str:
        if self.app.state == "stopped":
            return "closed"
        try:
            async with asyncio.timeout(DB_CHECK_SECONDS):
                async with self.app.db.engine.connect() as conn:
                    await conn.execute(text("SELECT 1"))
        except Exception:
            return "unreachable"
        return "ok"

    async def _counts(self) -> tuple[dict[str, int], dict[str, int]]:
        async with self.app.db.begin() as session:
            outbox = (
                await session.execute(
                    select(Delivery.state, func.count())
                    .where(Delivery.state.in_(("pending", "sending")))
                    .group_by(Delivery.state)
                )
            ).all()
            digests = (
                await session.execute(
                    select(Digest.variant, func.count())
                    .where(Digest.state == "posted")
                    .group_by(Digest.variant)
                )
            ).all()
        return {s: int(n) for s, n in outbox}, {v: int(n) for v, n in digests}

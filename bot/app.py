"""The composition root: config -> database -> services -> scheduler -> adapters.

Everything long-lived is made here, once, and handed down; nothing is created at import time.

Every replica serves commands and drains the outbox; the scheduler runs on exactly one of them
(bot/leadership.py). `serve` is what `cycles run` runs: start, wait for SIGTERM or SIGINT, stop
gracefully (intake first, then what is in flight)."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import logging
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import select

from bot.adapters import Adapter, AdapterRegistry
from bot.clock import system_clock
from bot.commands import Dispatcher, all_specs
from bot.commands.registry import CommandSpec, Result
from bot.config import Settings
from bot.domain import Actor, ChannelRef, Form
from bot.domain.durations import parse_duration
from bot.errors import ConfigError, NotSaved
from bot.inbound import CorePort
from bot.leadership import Leadership, startup_lock
from bot.listener import Listeners
from bot.logs import log_failure
from bot.metrics import MeteredSummariser, Metrics
from bot.ops import OpsServer
from bot.ports import Port
from bot.scheduler import Scheduler
from bot.services import alarms, outbox, rounds
from bot.services.context import Deps
from bot.services.templates import RoundTemplateSpec, load_templates
from bot.store import migrate, startup
from bot.store.database import Database
from bot.store.models import RoundTemplate
from bot.summarise.factory import make_summariser

log = logging.getLogger(__name__)

# How long a graceful stop waits for the send and the scheduled jobs under way.
STOP_GRACE_SECONDS = 30.0
NOT_SAVED = str(NotSaved())


class MeteredDispatcher(Dispatcher):
    """The dispatcher, counting what it handles and how long the core took."""

    def __init__(self, deps: Deps, specs: Sequence[CommandSpec], metrics: Metrics) -> None:
        super().__init__(deps, specs)
        self.metrics = metrics

    async def handle(
        self,
        actor: Actor,
        channel: ChannelRef,
        text: str,
        *,
        fields: dict[str, str] | None = None,
        source_key: str | None = None,
        once: bool = False,
    ) -> Result:
        started = time.perf_counter()
        result = await super().handle(
            actor, channel, text, fields=fields, source_key=source_key, once=once
        )
        self._observe(str(channel.platform), started, result)
        return result

    async def handle_reply(self, actor: Actor, round_id: int, text: str) -> Result:
        started = time.perf_counter()
        result = await super().handle_reply(actor, round_id, text)
        self._observe(str(actor.platform), started, result)
        return result

    def _observe(self, platform: str, started: float, result: Result) -> None:
        self.metrics.handle_seconds.labels(platform).observe(time.perf_counter() - started)
        if isinstance(result, Form):
            kind = "form"
        elif result.message.text == NOT_SAVED:
            kind = "not_saved"
            self.metrics.not_saved.inc()
        else:
            kind = "reply"
        self.metrics.events.labels(platform, kind).inc()


@dataclass
class App:
    settings: Settings
    deps: Deps
    dispatcher: Dispatcher
    wake: asyncio.Event
    with_scheduler: bool = True
    metrics: Metrics = field(default_factory=Metrics)
    # Jobs registered but run only by `scheduler.run_due()`: for a manual clock (tests).
    scheduler_paused: bool = False
    state: str = "created"  # created | running | stopping | stopped
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _scheduler: Scheduler | None = None
    _leadership: Leadership | None = None
    _stopping: asyncio.Event = field(default_factory=asyncio.Event)
    # The platforms' HTTP servers, one per host and port, shared by the adapters on it.
    listeners: Listeners = field(init=False)
    # What adapters get instead of this object.
    port: Port = field(init=False)

    def __post_init__(self) -> None:
        self.listeners = Listeners(share=self.settings.bot.share_ports)
        self.port = CorePort(self.dispatcher, self.metrics, self.listeners.get)

    @property
    def adapters(self) -> AdapterRegistry:
        return self.deps.adapters

    @property
    def db(self) -> Database:
        return self.deps.db

    @property
    def scheduler(self) -> Scheduler | None:
        """The running scheduler, on the one replica that runs it."""
        return self._scheduler

    @property
    def scheduler_role(self) -> str:
        """leader (runs the scheduler), standby (would take over), or off."""
        if self._leadership is None:
            return "off"
        return "leader" if self._leadership.leader else "standby"

    def add_adapter(self, adapter: Adapter) -> None:
        self.deps.adapters.add(adapter)

    async def start(self) -> None:
        """Start the outbox worker, the scheduler election and every adapter, then listen on
        the ports they mounted on (a running aiohttp server takes no new routes)."""
        self._stopping.clear()
        self._tasks.append(asyncio.create_task(self._outbox_worker(), name="outbox"))
        if self.with_scheduler and self.settings.scheduler.enabled:
            self._leadership = Leadership(
                self.deps.db,
                self.settings.scheduler,
                elected=self._elected,
                deposed=self._deposed,
            )
            self._tasks.append(
                asyncio.create_task(self._leadership.run(self._stopping), name="leadership")
            )
        for adapter in self.adapters.all():
            await adapter.start()
        await self.listeners.bind()
        self.state = "running"

    async def stop(self) -> None:
        """Stop gracefully: no new send or scheduled job starts; adapters stop taking requests
        and finish the ones they acknowledged; the send under way completes and every claimed
        delivery not yet sent goes back to the queue (due at once for another replica); the
        scheduler lock is released so a standby takes over at its next try."""
        if self.state in ("stopping", "stopped"):
            return
        self.state = "stopping"
        self._stopping.set()
        self.wake.set()
        for adapter in self.adapters.all():
            with contextlib.suppress(Exception):
                await adapter.stop()
        # Only now: a stopping adapter answers 503 on its routes while its work finishes.
        with contextlib.suppress(Exception):
            await self.listeners.close()
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=STOP_GRACE_SECONDS)
            for task in late:
                task.cancel()
            for task in self._tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        self._tasks.clear()
        await self.deps.db.dispose()
        self.state = "stopped"

    async def _elected(self) -> None:
        scheduler = Scheduler(self.deps, observe=self.metrics.job)
        await scheduler.start(paused=self.scheduler_paused)
        self._scheduler = scheduler
        self.metrics.scheduler_leader.set(1)

    async def _deposed(self) -> None:
        self.metrics.scheduler_leader.set(0)
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            await scheduler.stop(STOP_GRACE_SECONDS)

    async def catch_up(self) -> None:
        """What the scheduler's jobs would have done by now: for a manual clock moved forward."""
        await rounds.send_due_reminders(self.deps)
        await rounds.close_due_rounds(self.deps)
        await alarms.evaluate_all(self.deps)

    async def drain_outbox(self) -> int:
        """Send everything due now; returns how many were sent. Stops early once stopping."""
        total = 0
        while not self._stopping.is_set():
            result = await outbox.drain(
                self.deps, stopping=self._stopping.is_set, observe=self.metrics.delivery
            )
            total += result.sent
            if result.sent + result.retried + result.failed == 0:
                break
        return total

    async def _outbox_worker(self) -> None:
        poll = self.settings.outbox.poll_seconds
        while not self._stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), poll)
            self.wake.clear()
            if self._stopping.is_set():
                return
            try:
                await self.drain_outbox()
            except Exception as exc:  # a failed pass is retried on the next wake or poll
                log_failure(log, "outbox pass failed", exc)


async def sync_templates(db: Database, templates: dict[str, RoundTemplateSpec]) -> None:
    async with db.begin() as session:
        existing = {t.key: t for t in (await session.execute(select(RoundTemplate))).scalars()}
        for key, spec in templates.items():
            row = existing.get(key) or RoundTemplate(key=key)
            row.title, row.intro = spec.title, spec.intro
            row.prompts = [p.model_dump() for p in spec.prompts]
            row.default_duration_hours = int(
                parse_duration(spec.default_duration).total_seconds() // 3600
            )
            session.add(row)


async def build_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] = system_clock,
    adapters: Iterable[Adapter] = (),
    with_scheduler: bool = True,
    scheduler_paused: bool = False,
) -> App:
    """Validate templates, migrate the database, and wire the services. Adapters come later.

    `scheduler_paused`: the elected scheduler only runs jobs when told (`run_due`), for a
    manual `clock`; APScheduler's own timing follows the system clock."""
    templates = load_templates(settings.bot.prompts_dir / "rounds")
    _check_default_template(settings, templates)
    db = Database(settings.bot.resolved_database_url())
    try:
        await startup.check(db)
        # One process at a time: the later ones find the schema and the templates in place.
        async with startup.startup_errors(db), startup_lock(db), migrate.file_lock(db):
            await migrate.upgrade(db)
            await sync_templates(db, templates)
    except BaseException:
        await db.dispose()
        raise
    wake = asyncio.Event()
    registry = AdapterRegistry()
    for adapter in adapters:
        registry.add(adapter)
    metrics = Metrics()
    summariser = make_summariser(settings)
    if settings.digest.summariser == "llm":  # the offline one makes no model calls
        summariser = MeteredSummariser(summariser, metrics)
    deps = Deps(
        settings=settings,
        db=db,
        adapters=registry,
        templates=templates,
        summariser=summariser,
        clock=clock,
        notify_outbox=wake.set,
    )
    dispatcher = MeteredDispatcher(deps, all_specs(), metrics)
    return App(
        settings, deps, dispatcher, wake, with_scheduler, metrics, scheduler_paused=scheduler_paused
    )


def _check_default_template(settings: Settings, templates: dict[str, RoundTemplateSpec]) -> None:
    # Config cannot see the templates; this is the first place that can, before anything runs.
    key = settings.rounds.default_template
    if key not in templates:
        known = ", ".join(sorted(templates))
        raise ConfigError(
            f"config: rounds.default_template = {key!r} is not a round template. Fix: use one "
            f"of {known} (the files in {settings.bot.prompts_dir / 'rounds'})."
        )


# Platform name -> "module:factory" taking the port. Imported only when the platform is
# configured: the core stays free of platform libraries, and a console-only run never loads them.
PLATFORMS: dict[str, str] = {
    "slack": "integrations.slack.adapter:SlackAdapter",
    "discord": "integrations.discord.adapter:DiscordAdapter",
    "teams": "integrations.teams.adapter:TeamsAdapter",
}


def platform_adapters(app: App) -> list[Adapter]:
    """An adapter for every platform whose credentials are present."""
    found: list[Adapter] = []
    for name, target in PLATFORMS.items():
        if getattr(app.settings, name).enabled:
            module, _, factory = target.partition(":")
            made = getattr(importlib.import_module(module), factory)
            make = cast(Callable[[Port], Adapter], made)
            found.append(make(app.port))
    return found


async def serve(app: App, *, on_ready: Callable[[OpsServer | None], None] | None = None) -> None:
    """Run `app` until SIGTERM or SIGINT, serving /healthz and /metrics, then stop it
    gracefully. `on_ready` hears when everything has started (with the ops server, if any)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    share = app.settings.bot.share_ports
    ops = OpsServer(app, app.settings.ops, share=share) if app.settings.ops.enabled else None
    try:
        if ops is not None:
            ops = await _start_ops(ops)  # first, so /healthz says "starting" meanwhile
        await app.start()
        log.info("started; scheduler %s", app.scheduler_role)
        # What exists now lives as long as the process: keep it out of the collector's full
        # passes, which otherwise pause the loop (acknowledgements too) for tens of ms.
        gc.freeze()
        if on_ready is not None:
            on_ready(ops)
        await stop.wait()
        log.info("stopping: intake first, then what is in flight")
    finally:
        await app.stop()
        if ops is not None:
            await ops.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
    log.info("stopped")


async def _start_ops(ops: OpsServer) -> OpsServer | None:
    """The ops port is for monitoring: if it is taken, say so and serve the platforms anyway."""
    try:
        await ops.start()
    except OSError as exc:
        log.error(
            "ops: cannot listen on %s:%s (%s); /healthz and /metrics are off. Fix: set [ops] "
            "port (CYCLES_OPS__PORT) to a free port, or 0 for any.",
            ops.host,
            ops.port,
            exc.strerror or type(exc).__name__,
        )
        return None
    return ops

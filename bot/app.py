"""The composition root: config -> database -> services -> scheduler -> adapters.

Everything long-lived is made here, once, and handed down; nothing is created at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from bot.adapters import Adapter, AdapterRegistry
from bot.clock import system_clock
from bot.commands import Dispatcher, make_dispatcher
from bot.config import Settings
from bot.scheduler import Scheduler
from bot.services.context import Deps
from bot.services.templates import RoundTemplateSpec, load_templates
from bot.store import migrate
from bot.store.database import Database
from bot.store.models import RoundTemplate
from bot.summarise.factory import make_summariser

log = logging.getLogger(__name__)

# The outbox is drained on demand (a use case queued something) and at least this often.
OUTBOX_POLL_SECONDS = 5.0


@dataclass
class App:
    settings: Settings
    deps: Deps
    dispatcher: Dispatcher
    wake: asyncio.Event
    with_scheduler: bool = True
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _scheduler: Scheduler | None = None

    @property
    def adapters(self) -> AdapterRegistry:
        return self.deps.adapters

    def add_adapter(self, adapter: Adapter) -> None:
        self.deps.adapters.add(adapter)

    async def start(self) -> None:
        """Start the outbox worker, the scheduler and every adapter."""
        self._tasks.append(asyncio.create_task(self._outbox_worker(), name="outbox"))
        if self.with_scheduler:
            scheduler = Scheduler(self.deps)
            await scheduler.start()
            self._scheduler = scheduler
        for adapter in self.adapters.all():
            await adapter.start()

    async def stop(self) -> None:
        """Stop intake first, then finish queued deliveries, then release the database."""
        for adapter in self.adapters.all():
            with contextlib.suppress(Exception):
                await adapter.stop()
        if self._scheduler is not None:
            self._scheduler.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()
        await self.deps.db.dispose()

    async def drain_outbox(self) -> int:
        """Send everything due now; returns how many were sent."""
        from bot.services import outbox

        total = 0
        while True:
            result = await outbox.drain(self.deps)
            total += result.sent
            if result.sent + result.retried + result.failed == 0:
                return total

    async def _outbox_worker(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), OUTBOX_POLL_SECONDS)
            self.wake.clear()
            try:
                await self.drain_outbox()
            except Exception:  # a failed pass is retried on the next wake or poll
                log.exception("outbox pass failed")


async def sync_templates(db: Database, templates: dict[str, RoundTemplateSpec]) -> None:
    async with db.begin() as session:
        existing = {t.key: t for t in (await session.execute(select(RoundTemplate))).scalars()}
        for key, spec in templates.items():
            row = existing.get(key) or RoundTemplate(key=key)
            row.title, row.intro = spec.title, spec.intro
            row.prompts = [p.model_dump() for p in spec.prompts]
            from bot.commands.values import parse_duration

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
) -> App:
    """Validate templates, migrate the database, and wire the services. Adapters come later."""
    templates = load_templates(settings.bot.prompts_dir / "rounds")
    db = Database(settings.bot.resolved_database_url())
    await migrate.upgrade(db)
    await sync_templates(db, templates)
    wake = asyncio.Event()
    registry = AdapterRegistry()
    for adapter in adapters:
        registry.add(adapter)
    deps = Deps(
        settings=settings,
        db=db,
        adapters=registry,
        templates=templates,
        summariser=make_summariser(settings),
        clock=clock,
        notify_outbox=wake.set,
    )
    return App(settings, deps, make_dispatcher(deps), wake, with_scheduler)


def platform_adapters(app: App) -> list[Adapter]:
    """Every platform whose credentials are present. Imported lazily: the core stays free of
    platform libraries, and a console-only run never loads them."""
    found: list[Adapter] = []
    if app.settings.slack.enabled:
        from integrations.slack.adapter import SlackAdapter

        found.append(SlackAdapter(app))
    if app.settings.discord.enabled:
        from integrations.discord.adapter import DiscordAdapter

        found.append(DiscordAdapter(app))
    return found

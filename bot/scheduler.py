"""The only module that knows APScheduler. Jobs have explicit ids and `replace_existing`, so a
restart neither duplicates nor silently drops one; `coalesce` folds missed runs into one."""

from __future__ import annotations

import functools
import logging
import zoneinfo
from collections.abc import Awaitable, Callable

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from bot.services.context import Deps
from bot.store.models import Group

log = logging.getLogger(__name__)

Job = Callable[[], Awaitable[object]]


def cron(expression: str, timezone: str) -> CronTrigger:
    """A five-field cron expression in `timezone`; ValueError when it does not parse."""
    return CronTrigger.from_crontab(expression, timezone=zoneinfo.ZoneInfo(timezone))


class Scheduler:
    def __init__(self, deps: Deps) -> None:
        self.deps = deps
        self._scheduler = AsyncIOScheduler(
            timezone="UTC",
            job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1},
        )

    def add(self, job_id: str, trigger: CronTrigger | IntervalTrigger, job: Job) -> None:
        async def run() -> None:
            try:
                await job()
            except Exception:  # one failing job must not stop the others
                log.exception("scheduled job %s failed", job_id)

        self._scheduler.add_job(run, trigger, id=job_id, replace_existing=True)

    async def start(self) -> None:
        from bot.services import alarms, digests, outbox, rounds

        deps = self.deps
        self.add("outbox", IntervalTrigger(seconds=30), lambda: outbox.drain(deps))
        self.add("rounds-close", IntervalTrigger(minutes=1), lambda: rounds.close_due_rounds(deps))
        self.add(
            "rounds-remind", IntervalTrigger(minutes=5), lambda: rounds.send_due_reminders(deps)
        )
        self.add(
            "alarms",
            cron("0 8 * * *", deps.settings.bot.timezone),
            lambda: alarms.evaluate_all(deps),
        )
        await self.sync_digests(digests.publish_weekly)
        self._scheduler.start()

    async def sync_digests(self, publish: Callable[[Deps, int], Awaitable[object]]) -> None:
        """One weekly-digest job per group, on its own cron in its own timezone."""
        async with self.deps.db.begin() as session:
            groups = list((await session.execute(select(Group))).scalars())
        for group in groups:
            expression = group.digest_schedule or self.deps.settings.digest.schedule
            group_id = group.id
            self.add(
                f"digest:{group_id}",
                cron(expression, group.timezone),
                functools.partial(publish, self.deps, group_id),
            )

    def stop(self) -> None:
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

"""The only module that knows APScheduler.

Jobs have explicit ids and `replace_existing`, so re-registering one never duplicates it;
`coalesce` folds runs missed while the process was busy into one. The job store is APScheduler's
in-memory one, private to this process: on PostgreSQL only the replica holding the scheduler lock
(bot/leadership.py) runs a Scheduler at all.

A restart or a takeover must not silently drop a run either. An in-memory store forgets when a
cron job last fired, so on start each cron job is registered with its latest fire time within
`scheduler.misfire_grace_seconds` as its next run: APScheduler runs it at once. Every job body is
idempotent (a digest is unique per group and week, a scheduled round per group and slot, an
alarm per rule and subject), so running one that already ran before the restart changes nothing.

Every job receives the time it was due (`fired_at`): the cron fire time it stands for, which is
what names a digest's week or a scheduled round's slot even when the job runs late."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger as Trigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from bot.domain.cron import last_fire, next_after
from bot.domain.cron import parse as cron
from bot.logs import log_failure
from bot.services import alarms, events, exportfiles, rounds, schedules
from bot.services.context import Deps
from bot.services.schedules import EARLIEST_ZONE
from bot.store.models import Group

log = logging.getLogger(__name__)

Job = Callable[[datetime], Awaitable[object]]
JobObserver = Callable[[str, str], None]  # (job id, "ok" | "error")

GROUP_JOBS = ("digest:", "round:")


@dataclass(frozen=True)
class JobInfo:
    id: str
    next_run: datetime | None


class Scheduler:
    """The bot's recurring work on APScheduler's AsyncIOScheduler. `deps.clock` is "now" for
    every decision made here (production: the system clock, as APScheduler's own)."""

    def __init__(self, deps: Deps, *, observe: JobObserver | None = None) -> None:
        self.deps = deps
        self.settings = deps.settings.scheduler
        self.grace = timedelta(seconds=self.settings.misfire_grace_seconds)
        self._observe = observe
        self._aps = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={
                "coalesce": True,
                "misfire_grace_time": self.settings.misfire_grace_seconds,
                "max_instances": 1,
            },
        )
        self._specs: dict[str, str] = {}
        self._triggers: dict[str, Trigger] = {}
        # One future per job run under way, done when the run ends (whichever task runs it).
        self._running: set[asyncio.Future[None]] = set()

    # --- jobs ---------------------------------------------------------------------------------

    def add(
        self, job_id: str, trigger: Trigger, job: Job, *, spec: str = "", catch_up: bool = False
    ) -> None:
        """Register (or replace) a job. With `spec`, an unchanged spec keeps the job as it is
        (a resync does not reset its next run); with `catch_up`, a cron fire missed within the
        grace time runs at once."""
        if spec and self._specs.get(job_id) == spec and self._aps.get_job(job_id) is not None:
            return
        now = self.deps.clock()
        first: datetime | None
        if isinstance(trigger, IntervalTrigger):
            first = now  # housekeeping runs at once on start, then every interval
        else:
            missed = last_fire(trigger, now, self.grace) if catch_up else None
            first = missed or trigger.get_next_fire_time(None, now)
        self._aps.add_job(
            self._wrap(job_id, job),
            trigger,
            id=job_id,
            name=job_id,
            replace_existing=True,
            next_run_time=first,
        )
        self._specs[job_id] = spec
        self._triggers[job_id] = trigger

    def remove(self, job_id: str) -> None:
        if self._aps.get_job(job_id) is not None:
            self._aps.remove_job(job_id)
        self._specs.pop(job_id, None)
        self._triggers.pop(job_id, None)

    def _wrap(self, job_id: str, job: Job) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            finished: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._running.add(finished)
            try:
                await job(self._fired_at(job_id))
            except Exception as exc:  # one failing job must not stop the others
                log_failure(log, f"scheduled job {job_id} failed", exc)
                self._report(job_id, "error")
            else:
                self._report(job_id, "ok")
            finally:
                finished.set_result(None)
                self._running.discard(finished)

        return run

    def _fired_at(self, job_id: str) -> datetime:
        now = self.deps.clock()
        trigger = self._triggers.get(job_id)
        if isinstance(trigger, CronTrigger):
            return last_fire(trigger, now, self.grace) or now
        return now

    def _report(self, job_id: str, result: str) -> None:
        if self._observe is not None:
            self._observe(job_id, result)

    def jobs(self) -> list[JobInfo]:
        found = [
            JobInfo(job.id, getattr(job, "next_run_time", None)) for job in self._aps.get_jobs()
        ]
        return sorted(found, key=lambda j: j.id)

    # --- lifecycle ----------------------------------------------------------------------------

    async def start(self, *, paused: bool = False) -> None:
        """Register every job (catching up on cron runs missed within the grace time) and
        start. `paused`: jobs are registered but only `run_due` runs them (a manual clock)."""
        deps = self.deps
        tick = IntervalTrigger(seconds=self.settings.tick_seconds)
        self.add(
            "exports-expire",
            IntervalTrigger(seconds=exportfiles.EXPORT_SWEEP.total_seconds()),
            lambda _at: exportfiles.expire_exports(deps.settings.bot.data_dir, deps.clock()),
        )
        self.add(
            "events-expire",
            IntervalTrigger(seconds=events.EVENT_SWEEP.total_seconds()),
            lambda _at: events.forget_old_events(deps.db, deps.clock()),
        )
        self.add("rounds-close", tick, lambda _at: rounds.close_due_rounds(deps))
        self.add("rounds-remind", tick, lambda _at: rounds.send_due_reminders(deps))
        self.add(
            "alarms",
            cron(self.settings.alarms_schedule, deps.settings.bot.timezone),
            lambda _at: alarms.evaluate_all(deps),
            catch_up=True,
        )
        self.add(
            "schedules",
            IntervalTrigger(seconds=self.settings.resync_seconds),
            lambda _at: self.resync(),
        )
        await self.resync(catch_up=True)
        self._aps.start(paused=paused)

    async def resync(self, *, catch_up: bool = False) -> None:
        """One digest job per group (its cron, its timezone) and one round job per group with a
        round schedule; changed schedules are replaced, removed ones dropped. Runs on start and
        every `scheduler.resync_seconds`, so a schedule changed on any replica is picked up."""
        deps = self.deps
        async with deps.db.begin() as session:
            groups = list((await session.execute(select(Group).order_by(Group.id))).scalars())
        wanted: dict[str, tuple[Trigger, str, Job]] = {}
        for group in groups:
            expression = group.digest_schedule or deps.settings.digest.schedule
            try:
                wanted[f"digest:{group.id}"] = (
                    cron(expression, group.timezone),
                    f"{expression}|{group.timezone}",
                    functools.partial(schedules.publish_digest, deps, group.id),
                )
            except ValueError:
                log.warning("group %s has an unusable digest schedule; skipped", group.id)
            if group.round_schedule:
                expression, _ = schedules.split_round_schedule(group.round_schedule)
                try:
                    wanted[f"round:{group.id}"] = (
                        cron(expression, EARLIEST_ZONE),
                        expression,
                        functools.partial(schedules.open_scheduled_rounds, deps, group.id),
                    )
                except ValueError:
                    log.warning("group %s has an unusable round schedule; skipped", group.id)
        for job_id in [j for j in self._specs if j.startswith(GROUP_JOBS) and j not in wanted]:
            self.remove(job_id)
        for job_id, (trigger, spec, job) in wanted.items():
            self.add(job_id, trigger, job, spec=spec, catch_up=catch_up)

    async def run_due(self, now: datetime | None = None) -> list[str]:
        """Run, once each, the jobs due at `now` (default: the deps clock), and move each to its
        next fire time after `now`. For a paused scheduler driven by a manual clock."""
        now = now or self.deps.clock()
        ran: list[str] = []
        due = [
            job
            for job in self._aps.get_jobs()
            if job.next_run_time is not None and job.next_run_time <= now
        ]
        for job in sorted(due, key=lambda j: (j.next_run_time, j.id)):
            await job.func()
            ran.append(job.id)
            if self._aps.get_job(job.id) is not None:  # a resync may have replaced it
                job.modify(next_run_time=next_after(job.trigger, now))
        return ran

    async def stop(self, grace: float = 30.0) -> None:
        """No new runs; jobs under way get `grace` seconds to finish, then are cancelled."""
        if not self._aps.running:
            return
        self._aps.pause()
        running = [run for run in self._running if not run.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=grace)
            if late:
                log.warning("%d scheduled jobs did not finish in time; cancelled", len(late))
        self._aps.shutdown(wait=False)

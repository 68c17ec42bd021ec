"""Prometheus metrics. One `Metrics` per App, on its own CollectorRegistry: nothing module-global,
so two Apps in one process (tests, a second replica) never mix their numbers.

Counters are per process (Prometheus sums replicas); the outbox depth and the digests posted are
read from the database at scrape time, so every replica reports the same shared truth."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.summarise.base import Entry, Summariser, Summary

CONTENT_TYPE = CONTENT_TYPE_LATEST
# Slack and Discord both want an answer within 3 s: the buckets straddle that.
ACK_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.events = Counter(
            "cycles_events_handled",
            "Commands, button clicks and form submissions handled, by platform and result.",
            ["platform", "result"],
            registry=r,
        )
        self.handle_seconds = Histogram(
            "cycles_handle_seconds",
            "Time the core took to answer one command.",
            ["platform"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.ack_seconds = Histogram(
            "cycles_ack_seconds",
            "Time from receiving a platform request to acknowledging it.",
            ["platform"],
            buckets=ACK_BUCKETS,
            registry=r,
        )
        self.deliveries = Counter(
            "cycles_deliveries",
            "Outbox deliveries by platform and outcome (sent, retried, failed, found).",
            ["platform", "outcome"],
            registry=r,
        )
        self.outbox_depth = Gauge(
            "cycles_outbox_depth",
            "Deliveries not yet sent, by state (pending, sending), across all replicas.",
            ["state"],
            registry=r,
        )
        self.digests_posted = Gauge(
            "cycles_digests_posted",
            "Digests posted so far, by variant (group, leader), across all replicas.",
            ["variant"],
            registry=r,
        )
        self.model_calls = Counter(
            "cycles_model_calls",
            "Summariser calls by summariser and result (ok, fallback, error).",
            ["summariser", "result"],
            registry=r,
        )
        self.model_fallbacks = Counter(
            "cycles_model_fallbacks",
            "Summaries the offline summariser made because the model failed.",
            registry=r,
        )
        self.jobs = Counter(
            "cycles_scheduled_jobs",
            "Scheduled job runs by job kind and result (ok, error).",
            ["job", "result"],
            registry=r,
        )
        self.scheduler_leader = Gauge(
            "cycles_scheduler_leader",
            "1 while this replica runs the scheduler.",
            registry=r,
        )
        self.not_saved = Counter(
            "cycles_not_saved",
            "Commands answered with 'not saved' because the database refused the write.",
            registry=r,
        )

    # --- what the rest of the bot reports -----------------------------------------------------

    def observe_ack(self, platform: str, seconds: float) -> None:
        """Adapters call this once per request they acknowledged."""
        self.ack_seconds.labels(platform).observe(seconds)

    def delivery(self, platform: str, outcome: str) -> None:
        self.deliveries.labels(platform, outcome).inc()

    def job(self, job_id: str, result: str) -> None:
        # "digest:12" -> "digest": one series per kind of job, not per group.
        self.jobs.labels(job_id.split(":", 1)[0], result).inc()

    def set_counts(self, outbox: Mapping[str, int], digests: Mapping[str, int]) -> None:
        for state in ("pending", "sending"):
            self.outbox_depth.labels(state).set(outbox.get(state, 0))
        for variant in ("group", "leader"):
            self.digests_posted.labels(variant).set(digests.get(variant, 0))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class MeteredSummariser:
    """A summariser that counts its calls and the model's fallbacks to the offline one."""

    def __init__(self, inner: Summariser, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics
        self.name = inner.name

    async def summarise(
        self,
        entries: Sequence[Entry],
        *,
        max_themes: int,
        max_quotes: int,
        history: Sequence[str] = (),
    ) -> Summary:
        try:
            summary = await self.inner.summarise(
                entries, max_themes=max_themes, max_quotes=max_quotes, history=history
            )
        except Exception:
            self.metrics.model_calls.labels(self.name, "error").inc()
            raise
        fallback = summary.summariser.endswith("(fallback)")
        self.metrics.model_calls.labels(self.name, "fallback" if fallback else "ok").inc()
        if fallback:
            self.metrics.model_fallbacks.inc()
        return summary

"""The benchmark suite at tiny sizes, so it cannot rot: every benchmark runs end to end and
reports its rows. Timings are never asserted (they mean nothing at these sizes and on a shared
machine); structure, and the correctness figures the suite counts (no duplicate, no loss), are."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from bench.registry import BENCHMARKS
from bench.suite import Outcome, Scale, run_one, table, write_results
from tests.conftest import PG_URL


@pytest.fixture(scope="module")
def scale() -> Scale:
    return Scale.smoke(PG_URL)


async def run(name: str, scale: Scale) -> Outcome:
    outcome = await run_one(name, BENCHMARKS[name], scale)
    assert outcome.error is None, outcome.error
    assert outcome.rows, f"{name} reported nothing"
    for row in outcome.rows:
        assert row.bench == name
        assert math.isfinite(row.value), row
        if row.baseline is not None:
            assert row.baseline > 0, row
            # A memory baseline under a megabyte is allocator noise: such a row has no ratio.
            assert row.ratio is not None or (row.unit == "MB" and row.baseline < 1), row
    return outcome


def by_measure(outcome: Outcome) -> dict[str, float]:
    return {row.measure: row.value for row in outcome.rows}


async def test_ack(scale: Scale) -> None:
    outcome = await run("ack", scale)
    assert {"p50 latency", "p99 latency", "throughput"} <= set(by_measure(outcome))
    for run_ in outcome.details["bot_runs"] + outcome.details["bare_runs"]:
        assert run_["requests"] == scale.ack_requests and run_["failures"] == 0
    assert all(r["answered_seconds"] for r in outcome.details["bot_runs"])
    if scale.postgres_url:  # one bot process, then two replicas sharing the port
        measures = set(by_measure(outcome))
        assert "check-ins saved and answered, PostgreSQL, one process" in measures
        assert "check-ins saved and answered, PostgreSQL, 2 processes sharing the port" in measures
        runs = outcome.details["postgres_runs"] + outcome.details["postgres_two_process_runs"]
        assert all(r["answered_seconds"] and r["failures"] == 0 for r in runs)


async def test_ingest(scale: Scale) -> None:
    outcome = await run("ingest", scale)
    kinds = ["sqlite"] + (["postgresql"] if PG_URL else [])
    assert sorted(outcome.details) == sorted(kinds)
    assert len(outcome.rows) == 2 * len(kinds)


async def test_fanout_has_no_duplicate_and_no_loss(scale: Scale) -> None:
    outcome = await run("fanout", scale)
    figures = by_measure(outcome)
    assert figures["duplicates"] == 0
    assert figures["losses"] == 0
    assert outcome.details["pending_after"] == 0
    assert outcome.details["members"] == scale.fanout_members
    assert outcome.details["calls"]["chat.postMessage"] >= scale.fanout_members


async def test_digest(scale: Scale) -> None:
    outcome = await run("digest", scale)
    for size in scale.digest_sizes:
        built = outcome.details[str(size)]["digest"]
        # Nine in ten entries are shared with the group; only those reach a digest.
        assert all(b["used"] == size - size // 10 - (1 if size % 10 else 0) for b in built)
    growth = [r for r in outcome.rows if r.measure.startswith("growth")]
    assert len(growth) == 2 * (len(scale.digest_sizes) - 1)


async def test_footprint(scale: Scale) -> None:
    outcome = await run("footprint", scale)
    figures = outcome.details
    assert figures["idle"]["rss_mb"] > 0
    assert figures["after"]["peak_rss_mb"] >= figures["after"]["rss_mb"]
    assert len(figures["ready_seconds"]) == scale.repeats


def test_results_and_table(tmp_path: Path) -> None:
    from bench.suite import Row

    outcomes = [
        Outcome("x", [Row("x", "m", 2.0, "s", 1.0, "(b)", 2.0, "<= 3 s", True)]),
        Outcome("y", error="RuntimeError: broken"),
    ]
    out = tmp_path / "results.json"
    write_results(out, Scale.smoke(), outcomes, 1.0)
    data = json.loads(out.read_text())
    assert [b["name"] for b in data["benchmarks"]] == ["x", "y"]
    assert data["benchmarks"][0]["rows"][0]["ratio"] == 2.0
    rendered = table(outcomes)
    assert "| x | m | 2.00 s | 1.00 s (b) | 2.00x | <= 3 s | yes |" in rendered
    assert "failed: RuntimeError: broken" in rendered


async def test_steady(scale: Scale) -> None:
    outcome = await run("steady", scale)
    steps = outcome.details["steps"]
    assert {s["command"] for s in steps} == {"help", "round status", "checkin"}
    for step in steps:
        assert step["failures"] == 0 and step["unanswered"] == 0, step


async def test_discord_round_after_a_restart_opens_no_dm_again(scale: Scale) -> None:
    outcome = await run("discord", scale)
    assert outcome.details["dm_channels_opened_again"] == 0
    assert outcome.details["duplicates"] == 0


async def test_core_commands_keep_to_their_statements(scale: Scale) -> None:
    """The lean read path, counted rather than timed: who and where in one statement, so that
    `help` sends one, `round status` two and a check-in two (`make bench` for the times)."""
    outcome = await run("core", scale)
    figures = by_measure(outcome)
    assert figures["help: statements per command"] == 1
    assert figures["round status: statements per command"] == 2
    assert figures["checkin: statements per command"] == 2

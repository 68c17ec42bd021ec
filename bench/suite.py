"""What every benchmark shares: the sizes of a run, the rows of the table, the statistics, and the
runner that prints the table and writes bench/results.json.

Every speed figure is compared with a baseline measured in the same run, so the ratio holds on a
noisy shared machine even when the absolute numbers move."""

from __future__ import annotations

import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results.json"
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


@dataclass(frozen=True)
class Scale:
    """The sizes of one run. `full()` is what `make bench` runs; `smoke()` is the tiny CI run."""

    repeats: int = 3
    # 1: slash-command acknowledgement through Slack HTTP mode
    ack_requests: int = 2000
    ack_concurrency: int = 50
    ack_pairs: int = 7  # bare, then bot: the ratio is their median, the noisiest figure here
    # 2: check-in ingest
    ingest_rows: int = 5000
    ingest_batch: int = 1000
    ingest_repeats: int = 5  # fast, and the noisiest on a shared machine
    # 3: round fan-out against a rate-limit model
    fanout_members: int = 1000
    fanout_rate: float = 50.0
    fanout_burst: int = 10
    # 4: offline digest
    digest_sizes: tuple[int, ...] = (1000, 10_000, 100_000)
    digest_repeats_large: int = 3  # repeats at the largest size
    # 5: footprint
    footprint_entries: int = 10_000
    # 6: steady open-loop load (commands a second, and how long each rate is held)
    steady_rates: tuple[int, ...] = (100, 200, 400, 800)
    steady_seconds: float = 2.0
    # 7: a Discord round after a restart (to fanout_members people); 0: the default send pace
    discord_rate: float = 0.0
    # 9: commands through the core alone (each command, this many times a repeat)
    core_commands: int = 2000
    # The PostgreSQL server for the ingest benchmark ("" skips PostgreSQL).
    postgres_url: str = ""

    @classmethod
    def full(cls, postgres_url: str = "") -> Scale:
        return cls(postgres_url=postgres_url)

    @classmethod
    def smoke(cls, postgres_url: str = "") -> Scale:
        return cls(
            repeats=1,
            ack_requests=40,
            ack_concurrency=5,
            ack_pairs=1,
            ingest_rows=60,
            ingest_batch=25,
            ingest_repeats=1,
            fanout_members=12,
            fanout_rate=200.0,
            fanout_burst=4,
            digest_sizes=(40, 120),
            digest_repeats_large=1,
            footprint_entries=60,
            steady_rates=(20,),
            steady_seconds=0.5,
            discord_rate=200.0,
            core_commands=40,
            postgres_url=postgres_url,
        )


@dataclass
class Row:
    """One line of the table: a measured value, its baseline from the same run, and the target."""

    bench: str
    measure: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    ratio: float | None = None
    target: str = ""
    met: bool | None = None
    note: str = ""


@dataclass
class Outcome:
    """What one benchmark returns: its rows, and the raw figures behind them (for results.json)."""

    name: str
    rows: list[Row] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None


Benchmark = Callable[[Scale], Awaitable[Outcome]]


# --- statistics ---------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values)) if values else float("nan")


def percentile(values: Sequence[float], pct: float) -> float:
    """The nearest-rank percentile (p99 of 2,000 samples is the 1,980th smallest)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-pct * len(ordered) // 100))))
    return float(ordered[rank - 1])


def ratio(value: float, baseline: float) -> float | None:
    return value / baseline if baseline else None


# --- the table ----------------------------------------------------------------------------------


def _num(value: float | None, unit: str = "-") -> str:
    if value is None:
        return ""
    if value != value:  # NaN
        return "n/a"
    if not unit and float(value).is_integer():  # a count
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def table(outcomes: Sequence[Outcome]) -> str:
    """A Markdown table: readable in a terminal and pasteable into the README."""
    head = ["benchmark", "measure", "value", "baseline (same run)", "ratio", "target", "met"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for outcome in outcomes:
        if outcome.error:
            lines.append(f"| {outcome.name} | failed: {outcome.error} | | | | | |")
        for row in outcome.rows:
            value = f"{_num(row.value, row.unit)} {row.unit}".strip()
            base = f"{_num(row.baseline)} {row.unit} {row.baseline_label}".strip()
            if row.baseline is None:
                base = row.baseline_label
            met = "" if row.met is None else ("yes" if row.met else "**no**")
            measure = row.measure + (f" ({row.note})" if row.note else "")
            cells = [row.bench, measure, value, base, _ratio(row.ratio), row.target, met]
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}x"


def machine() -> dict[str, Any]:
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in load],
    }


def write_results(path: Path, scale: Scale, outcomes: Sequence[Outcome], seconds: float) -> None:
    data = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "scale": {k: v for k, v in asdict(replace(scale, postgres_url="")).items()},
        "postgres": bool(scale.postgres_url),
        "seconds": round(seconds, 1),
        "benchmarks": [
            {
                "name": o.name,
                "seconds": round(o.seconds, 1),
                "error": o.error,
                "rows": [asdict(r) for r in o.rows],
                "details": o.details,
            }
            for o in outcomes
        ],
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, default=str) + "\n", encoding="utf-8")


async def run_one(name: str, bench: Benchmark, scale: Scale) -> Outcome:
    """Run one benchmark; a failure becomes a row of the table rather than the end of the run."""
    started = time.perf_counter()
    try:
        outcome = await bench(scale)
    except Exception as exc:
        outcome = Outcome(name, error=f"{type(exc).__name__}: {exc}"[:300])
    outcome.seconds = time.perf_counter() - started
    return outcome

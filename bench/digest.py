"""4. The weekly digest with the offline summariser, for a week of 1,000, 10,000 and 100,000
check-ins (nine in ten shared with the group): time and peak memory of building it through the
services (gather, summarise, chart, store), each size in a fresh process (time: the median of
the builds; memory: the first, before the process keeps memory from it), and how both grow from
one size to the next (10x the entries; linear growth is 10x). The baseline is a plain
scikit-learn TF-IDF pass over the same shared texts, in a process of its own: the least any
TF-IDF summariser pays. Next to the timings: theme recovery and purity on the planted week
(bench/digest_planted.py)."""

from __future__ import annotations

import itertools
import tempfile
from typing import Any

from bench import digest_planted
from bench.procs import worker
from bench.suite import Outcome, Row, Scale, median, ratio

TARGETS = {10_000: 5.0, 100_000: 15.0}
# "Close to linear": growing up to this much faster than the number of entries still counts.
LINEAR_SLACK = 1.25


async def one_size(entries: int, repeats: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cycles-bench-digest-") as tmp:
        async with worker("bench.digest_worker", "seed", str(entries), tmp) as seeding:
            seeded = await seeding.read(within=600)
        async with worker("bench.digest_worker", "build", str(repeats), tmp) as building:
            built = await building.read(within=900)
        async with worker("bench.digest_worker", "tfidf", str(repeats), tmp) as baseline:
            base = await baseline.read(within=900)
    return {"seeded": seeded, **built, **base}


async def run(scale: Scale) -> Outcome:
    outcome = Outcome("digest")
    largest = max(scale.digest_sizes)
    figures: dict[int, dict[str, float]] = {}
    for size in scale.digest_sizes:
        repeats = scale.digest_repeats_large if size == largest else scale.repeats
        result = await one_size(size, repeats)
        outcome.details[str(size)] = result
        figures[size] = {
            "seconds": median([r["seconds"] for r in result["digest"]]),
            # The first build in a fresh process: later ones reuse memory the first kept.
            "peak_mb": result["digest"][0]["peak_mb"],
            "base_seconds": median([r["seconds"] for r in result["tfidf"]]),
            "base_mb": result["tfidf"][0]["peak_mb"],
            # CPU seconds (all threads): steadier than wall time when the machine is shared.
            "cpu": median([r.get("cpu_seconds", 0.0) for r in result["digest"]]),
            "base_cpu": median([r.get("cpu_seconds", 0.0) for r in result["tfidf"]]),
        }
        f = figures[size]
        target = TARGETS.get(size)
        outcome.rows.append(
            Row(
                "digest",
                f"{size:,} entries: time",
                f["seconds"],
                "s",
                f["base_seconds"],
                "(TF-IDF pass)",
                ratio(f["seconds"], f["base_seconds"]),
                f"<= {target:g} s" if target else "",
                f["seconds"] <= target if target else None,
                note=f"CPU {f['cpu']:.1f} s, TF-IDF pass {f['base_cpu']:.2f} s",
            )
        )
        outcome.rows.append(
            Row(
                "digest",
                f"{size:,} entries: peak memory",
                f["peak_mb"],
                "MB",
                f["base_mb"],
                "(TF-IDF pass)",
                # Under a megabyte the baseline is allocator noise: no ratio.
                ratio(f["peak_mb"], f["base_mb"]) if f["base_mb"] >= 1 else None,
                note="first build in a fresh process, above its RSS before",
            )
        )
    with tempfile.TemporaryDirectory(prefix="cycles-bench-planted-") as tmp:
        async with worker("bench.digest_worker", "planted", "0", tmp) as evaluating:
            planted = await evaluating.read(within=600)
    outcome.details["planted"] = planted
    outcome.rows.extend(digest_planted.rows(planted))
    sizes = sorted(figures)
    for small, big in itertools.pairwise(sizes):
        factor = big / small
        for key, label in (("seconds", "time"), ("peak_mb", "memory")):
            grew = ratio(figures[big][key], figures[small][key])
            outcome.rows.append(
                Row(
                    "digest",
                    f"growth of {label}, {small:,} -> {big:,}",
                    grew if grew is not None else float("nan"),
                    "x",
                    factor,
                    "(linear)",
                    (grew / factor) if grew is not None else None,
                    f"<= {LINEAR_SLACK}x linear",
                    grew is not None and grew <= LINEAR_SLACK * factor,
                )
            )
    return outcome

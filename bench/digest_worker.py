"""The digest benchmark's two processes:

    python -m bench.digest_worker seed  <entries> <data_dir>   # a SQLite file with a week of them
    python -m bench.digest_worker build <repeats> <data_dir>   # time and measure the digest
    python -m bench.digest_worker tfidf <repeats> <data_dir>   # the same for the baseline
    python -m bench.digest_worker planted 0 <data_dir>         # theme recovery on bench/planted

`build` imports everything first, then for each repeat resets the process's peak-RSS counter
(/proc/self/clear_refs), builds the week's group digest through the services (gather, offline
summariser, chart, store) and reports the time and the peak memory above where it started.
`tfidf` does the same for the baseline, in a process of its own."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import corpus
from bench.procs import memory

WEEK = "2026-W48"
MONDAY = datetime(2026, 11, 23, tzinfo=UTC)
NOW = datetime(2026, 11, 27, 16, 0, tzinfo=UTC)
PEOPLE_PER_ENTRIES = 50  # one member for every 50 entries: a big week in a big group
EXPERIMENTS = 40


def url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'digest.sqlite3'}"


async def seed(entries: int, data_dir: Path) -> dict[str, Any]:
    from sqlalchemy import insert

    from bench.databases import create_all
    from bench.databases import seed as seed_group
    from bot.domain import Actor, Platform
    from bot.services import experiments, members
    from bot.store.database import Database
    from bot.store.models import CheckIn, Group

    db = Database(url(data_dir))
    await create_all(db)
    people = max(5, entries // PEOPLE_PER_ENTRIES)
    seeded = await seed_group(db, people, MONDAY - timedelta(days=30))
    async with db.begin() as session:
        group = await session.get_one(Group, seeded.group.id)
        owner = await members.ensure_member(
            session, Actor(Platform.SLACK, "T0001", "U00000", "Person 0")
        )
        made = [seeded.experiment.id]
        for n in range(1, EXPERIMENTS):
            e = await experiments.create_experiment(
                session,
                group,
                title=f"Experiment {n}",
                hypothesis="Trying it changes what people do",
                try_="Try it for a week",
                expect="People come back",
                cycle_id=None,
                owner_id=owner.id,
                now=MONDAY - timedelta(days=20),
            )
            made.append(e.id)
    rnd = random.Random(11)
    rows = []
    for i, t in enumerate(corpus.texts(entries, seed=5)):
        at = MONDAY + timedelta(seconds=rnd.randrange(4 * 24 * 3600))
        rows.append(
            {
                "experiment_id": made[i % len(made)],
                "member_id": seeded.members[rnd.randrange(len(seeded.members))].id,
                "happened": t.happened,
                "learned": t.learned,
                "next": t.next,
                "surprise": t.surprise,
                "confidence": t.confidence,
                "visibility": "group" if i % 10 else "private",
                "named": i % 7 == 0,
                "source_key": None,
                "created_at": at,
                "updated_at": at,
            }
        )
    async with db.engine.begin() as conn:
        for start in range(0, len(rows), 20_000):
            await conn.execute(insert(CheckIn), rows[start : start + 20_000])
    await db.dispose()
    return {"entries": entries, "shared": sum(1 for r in rows if r["visibility"] == "group")}


def reset_peak() -> None:
    """Start the peak-RSS counter (VmHWM) from the current RSS."""
    with open("/proc/self/clear_refs", "w", encoding="ascii") as handle:
        handle.write("5")


async def build(repeats: int, data_dir: Path) -> dict[str, Any]:
    import sklearn.cluster
    import sklearn.decomposition
    import sklearn.feature_extraction.text
    import sklearn.metrics  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401
    from sqlalchemy import select

    from bot.adapters import AdapterRegistry
    from bot.config import load_settings
    from bot.services.context import Deps
    from bot.services.digests.build import build_digest
    from bot.services.digests.variants import GROUP
    from bot.services.templates import load_templates
    from bot.store.database import Database
    from bot.store.models import Group
    from bot.summarise.factory import make_summariser

    env = {"CYCLES_DATA_DIR": str(data_dir), "CYCLES_CONFIG": "none"}
    settings = load_settings(path=None, env=env)
    db = Database(url(data_dir))
    deps = Deps(
        settings=settings,
        db=db,
        adapters=AdapterRegistry(),
        templates=load_templates(settings.bot.prompts_dir / "rounds"),
        summariser=make_summariser(settings),
        clock=lambda: NOW,
    )
    out: dict[str, Any] = {"digest": []}
    pid = os.getpid()
    for _ in range(repeats):
        gc.collect()
        start_rss = memory(pid)["rss_mb"]
        reset_peak()
        started = time.perf_counter()
        cpu = time.process_time()
        async with db.begin() as session:
            group = (await session.execute(select(Group))).scalars().first()
            assert group is not None
            digest = await build_digest(deps, session, group, WEEK, GROUP)
            used = len(digest.entry_ids)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        peak = memory(pid)["peak_rss_mb"]
        out["digest"].append(
            {"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak - start_rss, "used": used}
        )
        out["themes"] = digest.text.count("\n*")  # a sanity figure, not a measure
    out["process_peak_mb"] = memory(pid)["peak_rss_mb"]
    await db.dispose()
    return out


def tfidf(repeats: int, data_dir: Path) -> dict[str, Any]:
    """The baseline, in a process of its own: a plain TF-IDF pass over the week's shared texts
    (read straight from the file), what any TF-IDF summariser pays at least."""
    import sqlite3

    from sklearn.feature_extraction.text import TfidfVectorizer

    with sqlite3.connect(data_dir / "digest.sqlite3") as conn:
        rows = conn.execute(
            "SELECT happened, learned, next FROM checkins WHERE visibility = 'group'"
        ).fetchall()
    texts = ["\n\n".join(parts) for parts in rows]
    out: dict[str, Any] = {"tfidf": []}
    pid = os.getpid()
    for _ in range(repeats):
        gc.collect()
        start_rss = memory(pid)["rss_mb"]
        reset_peak()
        started = time.perf_counter()
        cpu = time.process_time()
        TfidfVectorizer(sublinear_tf=True).fit_transform(texts)
        seconds = time.perf_counter() - started
        cpu = time.process_time() - cpu
        peak = memory(pid)["peak_rss_mb"]
        out["tfidf"].append({"seconds": seconds, "cpu_seconds": cpu, "peak_mb": peak - start_rss})
    return out


def main(argv: list[str]) -> None:
    mode, number, data_dir = argv[0], int(argv[1]), Path(argv[2])
    if mode == "seed":
        result = asyncio.run(seed(number, data_dir))
    elif mode == "tfidf":
        result = tfidf(number, data_dir)
    elif mode == "planted":
        from bench import digest_planted

        result = digest_planted.evaluate()
    else:
        result = asyncio.run(build(number, data_dir))
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])

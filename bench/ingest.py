"""2. Check-in ingest through the services, on a SQLite file and on PostgreSQL, against a raw
SQLAlchemy Core bulk insert of the same rows (one executemany in one transaction).

Two service paths are measured: the one a command takes (one use case, so one transaction, per
check-in: the experiment is read, the platform's interaction id is claimed, the row written;
eight at a time, as concurrent members would) and the batch path (`checkins.record_many`: many
check-ins, validated and made idempotent the same way, in one transaction)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select

from bench import corpus
from bench.databases import Seeded, fresh, seed
from bench.suite import Outcome, Row, Scale, median, ratio
from bot.services import checkins, experiments
from bot.store.database import Database
from bot.store.models import CheckIn

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
CONCURRENCY = 8
# The one-use-case-per-check-in path is a hundred times slower: a sample of this many is enough.
ONE_BY_ONE_MAX = 500
PEOPLE = 50
TARGET = 0.5


def items(count: int, seeded: Seeded, run: int) -> list[checkins.NewCheckIn]:
    out = []
    for i, t in enumerate(corpus.texts(count, seed=run)):
        data = checkins.CheckInData(
            happened=t.happened,
            learned=t.learned,
            next=t.next,
            surprise=t.surprise,
            confidence=t.confidence,
        )
        member = seeded.members[i % len(seeded.members)]
        out.append(
            checkins.NewCheckIn(
                seeded.experiment.id, member.id, data, source_key=f"bench:{run}:{i}"
            )
        )
    return out


def core_rows(batch: Sequence[checkins.NewCheckIn]) -> list[dict[str, Any]]:
    return [checkins.row_of(item, NOW) for item in batch]


async def clear(db: Database) -> None:
    async with db.begin() as session:
        await session.execute(delete(CheckIn))


async def count(db: Database) -> int:
    async with db.begin() as session:
        return int((await session.execute(select(func.count(CheckIn.id)))).scalar_one())


async def raw_core(db: Database, batch: list[checkins.NewCheckIn]) -> float:
    rows = core_rows(batch)  # built before the clock starts: only the insert is timed
    started = time.perf_counter()
    async with db.engine.begin() as conn:
        await conn.execute(insert(CheckIn), rows)
    return time.perf_counter() - started


async def one_by_one(db: Database, batch: list[checkins.NewCheckIn]) -> float:
    """The command's path: one use case (one transaction) per check-in, a few at a time."""
    queue = iter(batch)

    async def member() -> None:
        for item in queue:
            async with db.begin() as session:
                experiment = await experiments.get_experiment(session, item.experiment_id)
                await checkins.record(
                    session,
                    experiment,
                    item.member_id,
                    item.data,
                    source_key=item.source_key,
                    now=NOW,
                )

    started = time.perf_counter()
    await asyncio.gather(*(member() for _ in range(CONCURRENCY)))
    return time.perf_counter() - started


async def batched(db: Database, batch: list[checkins.NewCheckIn], size: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(batch), size):
        async with db.begin() as session:
            await checkins.record_many(session, batch[start : start + size], now=NOW)
    return time.perf_counter() - started


async def measure(kind: str, scale: Scale) -> tuple[list[Row], dict[str, Any]]:
    n = scale.ingest_rows
    times: dict[str, list[float]] = {"core": [], "one_by_one": [], "batched": []}
    async with fresh(kind, scale.postgres_url) as db:
        seeded = await seed(db, PEOPLE, NOW)
        for run in range(scale.ingest_repeats):
            batch = items(n, seeded, run)
            for name in ("core", "one_by_one", "batched"):
                await clear(db)
                if name == "core":
                    seconds = await raw_core(db, batch)
                elif name == "one_by_one":
                    sample = batch[:ONE_BY_ONE_MAX]
                    seconds = await one_by_one(db, sample) * len(batch) / len(sample)
                else:
                    seconds = await batched(db, batch, scale.ingest_batch)
                stored = await count(db)
                if stored != (min(n, ONE_BY_ONE_MAX) if name == "one_by_one" else n):
                    raise RuntimeError(f"{kind} {name}: {stored} of {n} check-ins stored")
                times[name].append(seconds)
            # A replay of the whole batch stores nothing new (the interaction ids are claimed).
            async with db.begin() as session:
                again = await checkins.record_many(session, batch, now=NOW)
            if again != 0 or await count(db) != n:
                raise RuntimeError(f"{kind}: a replayed batch was stored again")
    rate = {name: n / median(values) for name, values in times.items()}
    label = "SQLite file" if kind == "sqlite" else "PostgreSQL"
    base = "(raw Core bulk insert)"
    rows = [
        Row(
            "ingest",
            f"{label}: services, batches of {scale.ingest_batch}",
            rate["batched"],
            "rows/s",
            rate["core"],
            base,
            ratio(rate["batched"], rate["core"]),
            f">= {TARGET}x raw",
            (ratio(rate["batched"], rate["core"]) or 0) >= TARGET,
            note=f"{n} check-ins",
        ),
        Row(
            "ingest",
            f"{label}: services, one use case per check-in",
            rate["one_by_one"],
            "rows/s",
            rate["core"],
            base,
            ratio(rate["one_by_one"], rate["core"]),
            note=f"{CONCURRENCY} at a time, one transaction each; timed on "
            f"{min(n, ONE_BY_ONE_MAX)}",
        ),
    ]
    details = {name: [round(t, 4) for t in values] for name, values in times.items()}
    return rows, {"rows": n, "seconds": details}


async def run(scale: Scale) -> Outcome:
    outcome = Outcome("ingest")
    kinds = ["sqlite"] + (["postgresql"] if scale.postgres_url else [])
    for kind in kinds:
        rows, details = await measure(kind, scale)
        outcome.rows.extend(rows)
        outcome.details[kind] = details
    return outcome

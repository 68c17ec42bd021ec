"""The benchmarks by name, in the order the table shows them, and where PostgreSQL is."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping

from bench import (
    ack,
    core,
    digest,
    discord_round,
    fanout,
    footprint,
    ingest,
    steady,
    teams_fanout,
)
from bench.suite import DEFAULT_PG_URL, Benchmark

BENCHMARKS: dict[str, Benchmark] = {
    "ack": ack.run,
    "ingest": ingest.run,
    "fanout": fanout.run,
    "teams": teams_fanout.run,
    "digest": digest.run,
    "footprint": footprint.run,
    "steady": steady.run,
    "discord": discord_round.run,
    "core": core.run,
}


async def postgres_url(env: Mapping[str, str]) -> str:
    """The PostgreSQL to use: CYCLES_BENCH_POSTGRES_URL, CYCLES_TEST_POSTGRES_URL, or the local
    default if it answers; "" when none does."""
    url = env.get("CYCLES_BENCH_POSTGRES_URL") or env.get("CYCLES_TEST_POSTGRES_URL")
    url = url or DEFAULT_PG_URL
    try:
        import psycopg

        from bot.store.database import psycopg_url

        plain = psycopg_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
        conn = await asyncio.wait_for(psycopg.AsyncConnection.connect(plain), 5)
        await conn.close()
    except Exception:
        return ""
    return url

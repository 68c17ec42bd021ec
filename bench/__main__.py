"""`make bench` (`python -m bench`): run the benchmark suite, print the table, write
bench/results.json.

    python -m bench                     # the full suite (a few minutes on two cores)
    python -m bench --only ack,digest   # some of it
    python -m bench --smoke             # tiny sizes: checks the suite still runs, proves nothing

PostgreSQL is used for the ingest benchmark when CYCLES_BENCH_POSTGRES_URL (or
CYCLES_TEST_POSTGRES_URL) is set, else the local default server is tried; `--no-postgres` skips
it."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from bench.registry import BENCHMARKS, postgres_url
from bench.suite import RESULTS, Scale, run_one, table, write_results


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument("--only", default="", help="comma-separated: " + ",".join(BENCHMARKS))
    parser.add_argument("--smoke", action="store_true", help="tiny sizes (what CI runs)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where the JSON goes")
    return parser.parse_args(argv)


async def main(argv: list[str]) -> int:
    args = parse(argv)
    names = [n.strip() for n in args.only.split(",") if n.strip()] or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    pg = "" if args.no_postgres else await postgres_url(os.environ)
    scale = Scale.smoke(pg) if args.smoke else Scale.full(pg)
    started = time.perf_counter()
    outcomes = []
    for name in names:
        print(f"… {name}", file=sys.stderr, flush=True)
        outcome = await run_one(name, BENCHMARKS[name], scale)
        print(
            f"  {name}: {outcome.seconds:.0f} s{' (failed)' if outcome.error else ''}",
            file=sys.stderr,
            flush=True,
        )
        outcomes.append(outcome)
    seconds = time.perf_counter() - started
    write_results(args.out, scale, outcomes, seconds)
    print(table(outcomes))
    print(f"\n{seconds:.0f} s in all; figures in {args.out}")
    if not pg and "ingest" in names:
        print("PostgreSQL was not reachable: the ingest benchmark ran on SQLite only.")
    return 1 if any(o.error for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))

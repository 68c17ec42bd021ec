"""1. Slash-command acknowledgement through Slack HTTP mode.

Signed /cycles requests from `concurrency` clients over loopback, to the bot served as `cycles
run` serves it (bot.app.serve: the composition root, its SlackAdapter in HTTP mode) and to a
bare slack-bolt AsyncApp that only acknowledges, alternating, in the same run. The bot, the bare
app and the FakeSlack they call (the Web API, and the response URLs the bot answers on) each
run in a process of their own, apart from the client that times them. The command is a check-in
(`checkin 1 happened=…`), the bot's commonest write: the bot acknowledges first and then saves
it and answers through the response URL, so that work competes with the next acknowledgements,
as it does in production. Latency is the client's: request sent to response read. `answered`
is when the last response-URL answer arrived."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
import time
import uuid
from dataclasses import dataclass
from typing import Any, cast

from bench.databases import schema_of
from bench.procs import Worker, worker
from bench.slack_server import ADMIN, CHANNEL, people
from bench.suite import Outcome, Row, Scale, median, percentile, ratio
from tests.support.fake_slack import FakeSlack, SlackDriver
from tests.support.postgres import free_port

SECRET = "bench-signing-secret"
WARMUP = 100
TARGET_P99_MS = 100.0
TARGET_THROUGHPUT = 0.8  # burst acknowledgements, the median of paired runs
TARGET_END_TO_END = 1000  # check-ins saved and answered a second
COMMAND = (
    'checkin 1 happened="Walked the estate with the nurse, visit {i}" surprise=60 confidence=55'
)


@dataclass
class Run:
    latencies: list[float]  # seconds
    seconds: float
    failures: int
    answered_seconds: float | None = None
    in_ack: int = 0  # answers that came back in the acknowledgement itself

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0


class RemoteSlack:
    """What SlackDriver needs from a FakeSlack, for one running in another process."""

    def __init__(self, url: str, team: str, users: list[str]) -> None:
        self.url, self.team = url, team
        self.api_url = f"{url}/api/"
        self.users = {u: {"name": f"person{u[1:]}"} for u in users}
        self._ids = itertools.count(1)
        # Answers that came back in acknowledgements (SlackDriver records them here).
        self.responses: list[dict[str, Any]] = []

    def new_trigger(self, user_id: str) -> str:
        return f"{next(self._ids)}.{uuid.uuid4().hex[:12]}"

    def response_url(self) -> str:
        return f"{self.url}/respond/{uuid.uuid4().hex[:12]}"


async def answers(fake: Worker) -> dict[str, Any]:
    await fake.send({"cmd": "responses"})
    return await fake.read()


async def load(
    driver: SlackDriver, users: list[str], requests: int, concurrency: int, text: str
) -> Run:
    """`requests` signed slash commands from `concurrency` clients; every latency is kept."""
    latencies: list[float] = []
    failures = 0
    queue = iter(range(requests))

    async def client(n: int) -> None:
        nonlocal failures
        user = users[n % len(users)]
        for i in queue:
            sent = await driver.slash(user, CHANNEL, text.format(i=i))
            if sent.status != 200:
                failures += 1
            latencies.append(sent.seconds)

    started = time.perf_counter()
    await asyncio.gather(*(client(n) for n in range(concurrency)))
    return Run(latencies, time.perf_counter() - started, failures)


async def until_answered(fake: Worker, count: int, within: float = 300.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while (got := await answers(fake))["count"] < count:
        if time.monotonic() > deadline:
            raise TimeoutError(f"{got['count']} of {count} answers arrived")
        await asyncio.sleep(0.05)
    return got


async def run(scale: Scale) -> Outcome:
    users = people(scale.ack_concurrency)
    outcome = Outcome("ack")
    with tempfile.TemporaryDirectory(prefix="cycles-bench-ack-") as tmp:
        async with worker("bench.slack_server", str(len(users))) as fake:
            where = await fake.read()
            remote = cast(FakeSlack, RemoteSlack(where["url"], where["team"], users))
            api = f"{where['url']}/api/"
            async with (
                worker("bench.ack_server", "bot", api, SECRET, tmp) as bot,
                worker("bench.ack_server", "bare", api, SECRET, tmp) as bare,
            ):
                bot_url = f"http://127.0.0.1:{(await bot.read())['port']}"
                bare_url = f"http://127.0.0.1:{(await bare.read())['port']}"
                async with (
                    SlackDriver(remote, bot_url, SECRET) as to_bot,
                    SlackDriver(remote, bare_url, SECRET) as to_bare,
                ):
                    try:
                        bot_runs, bare_runs = await paired(fake, to_bot, to_bare, users, scale)
                    except RuntimeError as exc:  # with why, as the bot logged it
                        raise RuntimeError(f"{exc}; the bot's log ends: {bot.stderr()}") from None
                    await bot.send({"cmd": "memory"})
                    outcome.details["bot_memory"] = await bot.read()
            pg_runs, pg_replica_runs = await on_postgres(fake, remote, users, api, tmp, scale)
    outcome.rows = rows(scale, bot_runs, bare_runs)
    if pg_runs:
        outcome.rows.append(postgres_row(scale, pg_runs, bare_runs, 1))
        outcome.rows.append(postgres_row(scale, pg_replica_runs, bare_runs, 2))
        outcome.details["postgres_runs"] = [summary(r) for r in pg_runs]
        outcome.details["postgres_two_process_runs"] = [summary(r) for r in pg_replica_runs]
    outcome.details.update(
        {
            "bot_runs": [summary(r) for r in bot_runs],
            "bare_runs": [summary(r) for r in bare_runs],
            "command": COMMAND,
        }
    )
    return outcome


async def paired(
    fake: Worker, to_bot: SlackDriver, to_bare: SlackDriver, users: list[str], scale: Scale
) -> tuple[list[Run], list[Run]]:
    """A warm-up, then `ack_pairs` pairs: a bare run, and a bot run just after it."""
    await setup(fake, to_bot)
    warm = min(WARMUP, scale.ack_requests)
    await load(to_bare, users, warm, scale.ack_concurrency, COMMAND)
    await answered_after(fake, to_bot, users, warm, scale)
    bare_runs: list[Run] = []
    bot_runs: list[Run] = []
    for _ in range(scale.ack_pairs):
        bare_runs.append(
            await load(to_bare, users, scale.ack_requests, scale.ack_concurrency, COMMAND)
        )
        bot_runs.append(await answered_after(fake, to_bot, users, scale.ack_requests, scale))
    return bot_runs, bare_runs


async def on_postgres(
    fake: Worker, remote: FakeSlack, users: list[str], api: str, tmp: str, scale: Scale
) -> tuple[list[Run], list[Run]]:
    """The same check-ins end to end with the bot on PostgreSQL (a schema of its own), when
    there is one: `repeats` runs after a warm-up, with one bot process, then with two replicas
    sharing the port (`bot.share_ports`): the clients' connections spread between them."""
    if not scale.postgres_url:
        return [], []
    with schema_of(scale.postgres_url) as url:
        async with worker("bench.ack_server", "bot", api, SECRET, tmp, url) as bot:
            bot_url = f"http://127.0.0.1:{(await bot.read())['port']}"
            one = await postgres_runs(fake, remote, users, bot_url, scale, [bot])
    with schema_of(scale.postgres_url) as url:
        shared = {"CYCLES_BENCH_SHARED_PORT": str(free_port())}
        async with (
            worker("bench.ack_server", "bot", api, SECRET, tmp, url, env=shared) as first,
            worker("bench.ack_server", "bot", api, SECRET, tmp, url, env=shared) as second,
        ):
            bot_url = f"http://127.0.0.1:{(await first.read())['port']}"
            await second.read()
            two = await postgres_runs(fake, remote, users, bot_url, scale, [first, second])
    return one, two


async def postgres_runs(
    fake: Worker,
    remote: FakeSlack,
    users: list[str],
    bot_url: str,
    scale: Scale,
    bots: list[Worker],
) -> list[Run]:
    async with SlackDriver(remote, bot_url, SECRET) as to_bot:
        try:
            await setup(fake, to_bot)
            warm = min(WARMUP, scale.ack_requests)
            await answered_after(fake, to_bot, users, warm, scale)
            return [
                await answered_after(fake, to_bot, users, scale.ack_requests, scale)
                for _ in range(scale.repeats)
            ]
        except RuntimeError as exc:
            logs = "; ".join(bot.stderr() for bot in bots)
            raise RuntimeError(f"{exc}; the bot's log ends: {logs}") from None


def postgres_row(scale: Scale, runs: list[Run], bare: list[Run], replicas: int) -> Row:
    done = median([scale.ack_requests / r.answered_seconds for r in runs if r.answered_seconds])
    base = median([r.throughput for r in bare])
    how = "one process" if replicas == 1 else f"{replicas} processes sharing the port"
    return Row(
        "ack",
        f"check-ins saved and answered, PostgreSQL, {how}",
        done,
        "per s",
        base,
        "(bare bolt acks; it saves nothing)",
        ratio(done, base),
        f">= {TARGET_END_TO_END:,} per s",
        done >= TARGET_END_TO_END,
        note="end to end, as above, with the bot on PostgreSQL",
    )


async def setup(fake: Worker, driver: SlackDriver) -> None:
    """An experiment in the channel, for the check-ins to land on."""
    before = (await answers(fake))["count"]
    sent = await driver.slash(
        ADMIN,
        CHANNEL,
        'experiment new title="Home visits" hypothesis="Visits at home build trust" '
        'try="Visit every new family at home" expect="More families come back"',
    )
    assert sent.status == 200, sent.body
    if sent.body:  # answered in the acknowledgement
        if not str(sent.json().get("text", "")).startswith("Experiment"):
            raise RuntimeError(f"the experiment was not created: {sent.body[:200]}")
        return
    got = await until_answered(fake, before + 1, within=30)
    if got["other"]:
        raise RuntimeError(f"the experiment was not created: {got['other'][:200]}")


async def answered_after(
    fake: Worker, driver: SlackDriver, users: list[str], requests: int, scale: Scale
) -> Run:
    """Load the bot, then wait for every answer: acknowledged work must also get done. An
    answer comes by response URL (to the fake), or in the acknowledgement when it was ready."""
    before = await answers(fake)
    in_acks = driver.fake.responses
    acked_before = len(in_acks)
    started = time.perf_counter()
    result = await load(driver, users, requests, scale.ack_concurrency, COMMAND)
    in_ack = len(in_acks) - acked_before
    got = await until_answered(fake, before["count"] + requests - in_ack)
    result.answered_seconds = time.perf_counter() - started
    result.in_ack = in_ack
    saved_in_ack = sum(
        1 for r in in_acks[acked_before:] if str(r.get("text", "")).startswith("Saved check-in")
    )
    if got["other"] or got["saved"] - before["saved"] + saved_in_ack != requests:
        raise RuntimeError(f"check-ins were not all saved: {got['other']}")
    return result


def summary(run: Run) -> dict[str, Any]:
    return {
        "requests": len(run.latencies),
        "failures": run.failures,
        "seconds": round(run.seconds, 3),
        "p50_ms": round(1000 * percentile(run.latencies, 50), 2),
        "p99_ms": round(1000 * percentile(run.latencies, 99), 2),
        "throughput_per_s": round(run.throughput, 1),
        "answered_seconds": run.answered_seconds and round(run.answered_seconds, 3),
        "answered_in_ack": run.in_ack,
    }


def rows(scale: Scale, bot: list[Run], bare: list[Run]) -> list[Row]:
    p50 = median([1000 * percentile(r.latencies, 50) for r in bot])
    p99 = median([1000 * percentile(r.latencies, 99) for r in bot])
    base50 = median([1000 * percentile(r.latencies, 50) for r in bare])
    base99 = median([1000 * percentile(r.latencies, 99) for r in bare])
    tput = median([r.throughput for r in bot])
    base_tput = median([r.throughput for r in bare])
    # Each bot run against the bare run just before it: the machine's load drifts over a run.
    paired = median([b.throughput / a.throughput for b, a in zip(bot, bare, strict=True)])
    done = median([scale.ack_requests / r.answered_seconds for r in bot if r.answered_seconds])
    failures = sum(r.failures for r in bot)
    where = f"{scale.ack_concurrency} concurrent, {scale.ack_requests} requests"
    bare_label = "(bare bolt)"
    return [
        Row("ack", "p50 latency", p50, "ms", base50, bare_label, ratio(p50, base50), note=where),
        Row(
            "ack",
            "p99 latency",
            p99,
            "ms",
            base99,
            bare_label,
            ratio(p99, base99),
            f"<= {TARGET_P99_MS:.0f} ms",
            p99 <= TARGET_P99_MS and failures == 0,
        ),
        Row(
            "ack",
            "throughput",
            tput,
            "req/s",
            base_tput,
            bare_label,
            paired,
            f">= {TARGET_THROUGHPUT}x bare",
            paired >= TARGET_THROUGHPUT,
            note="ratio: the median of each run's against the bare run just before it",
        ),
        Row(
            "ack",
            "check-ins saved and answered, SQLite",
            done,
            "per s",
            base_tput,
            "(bare bolt acks; it saves nothing)",
            ratio(done, base_tput),
            f">= {TARGET_END_TO_END:,} per s",
            done >= TARGET_END_TO_END,
            note="end to end: until the last response-URL answer",
        ),
    ]

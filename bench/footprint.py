"""5. Footprint: `cycles run` (`python -m bot run`, the real command line and composition root)
in its own process, with Slack (HTTP mode) and Discord connected to the fakes
(tests/support/fake_slack.py, tests/support/fake_discord.py), on a SQLite file.

Start to ready is from spawning the process to /healthz answering 200 (the ops server says so
once every adapter has started: Slack's token checked and its port bound, Discord's gateway
READY). Idle RSS is read from /proc two seconds later. Then a week of `footprint_entries`
check-ins is written to the bot's database (through the services, as members' check-ins would
be) and a facilitator asks for `digest preview` over Slack: the bot reads, summarises and
renders them all; the RSS after that and the process's peak are reported. The baseline is a
process that only imports the libraries a running bot needs (slack-bolt, discord.py,
SQLAlchemy, aiosqlite, Alembic, pydantic, APScheduler, prometheus-client, aiohttp): its start
time and RSS, the floor under any bot built on them."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp

from bench import corpus
from bench.databases import seed
from bench.procs import empty_config, free_port, memory, worker
from bench.suite import Outcome, Row, Scale, median, ratio
from bot.domain import ChannelRef, Platform
from bot.services import checkins
from bot.store.database import Database
from tests.support.fake_discord import FakeDiscord
from tests.support.fake_slack import FakeSlack, SlackDriver

SECRET = "bench-signing-secret"
CHANNEL = "C1"
ADMIN = "U0000"
READY_TARGET = 3.0
IDLE_TARGET_MB = 200.0


async def healthy(url: str, session: aiohttp.ClientSession) -> bool:
    try:
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=1)) as response:
            return response.status == 200
    except (aiohttp.ClientError, TimeoutError):
        return False


async def baseline(repeats: int) -> dict[str, float]:
    """Start time and RSS of a process that imports the libraries and nothing else."""
    times, rss = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        async with worker("bench.footprint_imports") as child:
            await child.read(within=60)
            times.append(time.perf_counter() - started)
            rss.append(memory(child.pid)["rss_mb"])
    return {"seconds": median(times), "rss_mb": median(rss)}


async def start_bot(
    tmp: Path, slack: FakeSlack, discord: FakeDiscord
) -> tuple[Any, float, str, int]:
    """Spawn `python -m bot run`; returns (the child's context, start-to-ready seconds, the
    Slack URL, the ops port)."""
    slack_port, ops_port = free_port(), free_port()
    env = {
        "CYCLES_CONFIG": str(empty_config(tmp)),
        "CYCLES_DATA_DIR": str(tmp / "data"),
        "HOME": str(tmp),
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": slack.api_url,
        "CYCLES_SLACK__MODE": "http",
        "CYCLES_SLACK__HTTP_HOST": "127.0.0.1",
        "CYCLES_SLACK__HTTP_PORT": str(slack_port),
        "DISCORD_TOKEN": discord.token,
        "DISCORD_API_URL": discord.api_url,
        "CYCLES_DISCORD__GUILD_READY_TIMEOUT": "0.5",
        "CYCLES_OPS__HOST": "127.0.0.1",
        "CYCLES_OPS__PORT": str(ops_port),
        "CYCLES_BOT__LOG_LEVEL": "WARNING",
    }
    context = worker("bot", "run", env=env, cwd=tmp)
    started = time.perf_counter()
    child = await context.__aenter__()
    health = f"http://127.0.0.1:{ops_port}/healthz"
    async with aiohttp.ClientSession() as session:
        while not await healthy(health, session):
            if child.process.returncode is not None or time.perf_counter() - started > 120:
                await context.__aexit__(None, None, None)
                raise RuntimeError(f"the bot did not become ready: {child.stderr()}")
            await asyncio.sleep(0.01)
    ready = time.perf_counter() - started
    return (context, child), ready, f"http://127.0.0.1:{slack_port}", ops_port


async def stop_bot(context: Any, child: Any) -> None:
    """SIGTERM, as an orchestrator stops it: a graceful stop."""
    if child.process.returncode is None:
        child.process.terminate()
    await context.__aexit__(None, None, None)


async def add_entries(tmp: Path, count: int, team: str) -> None:
    """A week of check-ins in the group of Slack channel C1, written through the services."""
    db = Database(f"sqlite+aiosqlite:///{tmp / 'data' / 'cycles.sqlite3'}")
    now = datetime.now(UTC)
    try:
        seeded = await seed(
            db, 200, now - timedelta(days=1), ChannelRef(Platform.SLACK, team, CHANNEL)
        )
        rnd = random.Random(3)
        items = [
            checkins.NewCheckIn(
                seeded.experiment.id,
                seeded.members[rnd.randrange(len(seeded.members))].id,
                checkins.CheckInData(t.happened, t.learned, t.next, t.surprise, t.confidence),
                source_key=f"bench:{i}",
            )
            for i, t in enumerate(corpus.texts(count, seed=9))
        ]
        for start in range(0, len(items), 1000):
            async with db.begin() as session:
                await checkins.record_many(session, items[start : start + 1000], now=now)
    finally:
        await db.dispose()


async def run(scale: Scale) -> Outcome:
    outcome = Outcome("footprint")
    base = await baseline(scale.repeats)
    slack = await FakeSlack(page_size=200).start()
    for n in range(20):
        user = f"U{n:04d}"
        slack.add_user(user, f"Person {n}", admin=user == ADMIN)
    slack.add_channel(CHANNEL, [f"U{n:04d}" for n in range(20)])
    discord = FakeDiscord()
    await discord.start()
    guild = discord.add_guild(members=20)
    discord.add_channel(guild, "learning")
    readies: list[float] = []
    figures: dict[str, Any] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="cycles-bench-footprint-") as name:
            tmp = Path(name)
            # Start and stop `repeats` times (same database: later starts find it migrated);
            # the last one stays up for the memory figures.
            for attempt in range(scale.repeats):
                (context, child), ready, slack_url, _ = await start_bot(tmp, slack, discord)
                readies.append(ready)
                if attempt < scale.repeats - 1:
                    await stop_bot(context, child)
            try:
                await asyncio.sleep(2.0)
                figures["idle"] = memory(child.pid)
                if not discord.sockets:
                    raise RuntimeError("the bot is not connected to Discord")
                await add_entries(tmp, scale.footprint_entries, slack.team)
                started = time.perf_counter()
                async with SlackDriver(slack, slack_url, SECRET) as driver:
                    before = len(slack.responses)
                    sent = await driver.slash(ADMIN, CHANNEL, "digest preview")
                    if sent.status != 200:
                        raise RuntimeError(f"digest preview refused: {sent.status}")
                    while len(slack.responses) == before:
                        if time.perf_counter() - started > 300:
                            raise TimeoutError("no digest preview came back")
                        await asyncio.sleep(0.05)
                figures["digest_seconds"] = time.perf_counter() - started
                answer = str(slack.responses[before].get("text", ""))
                if "Preview of the group digest" not in answer:
                    raise RuntimeError(f"unexpected answer: {answer[:200]}")
                figures["after"] = memory(child.pid)
            finally:
                await stop_bot(context, child)
    finally:
        await slack.stop()
        await discord.stop()
    ready = median(readies)
    idle = figures["idle"]["rss_mb"]
    after = figures["after"]
    entries = f"{scale.footprint_entries:,}"
    outcome.rows = [
        Row(
            "footprint",
            "start to ready",
            ready,
            "s",
            base["seconds"],
            "(imports only)",
            ratio(ready, base["seconds"]),
            f"<= {READY_TARGET:g} s",
            ready <= READY_TARGET,
            note="Slack HTTP + Discord, /healthz 200",
        ),
        Row(
            "footprint",
            "idle RSS",
            idle,
            "MB",
            base["rss_mb"],
            "(imports only)",
            ratio(idle, base["rss_mb"]),
            f"<= {IDLE_TARGET_MB:g} MB",
            idle <= IDLE_TARGET_MB,
        ),
        Row(
            "footprint",
            f"RSS after {entries} entries",
            after["rss_mb"],
            "MB",
            base["rss_mb"],
            "(imports only)",
            ratio(after["rss_mb"], base["rss_mb"]),
            note="a digest preview built over them",
        ),
        Row(
            "footprint",
            "peak RSS",
            after["peak_rss_mb"],
            "MB",
            base["rss_mb"],
            "(imports only)",
            ratio(after["peak_rss_mb"], base["rss_mb"]),
            note="whole run",
        ),
    ]
    outcome.details = {"ready_seconds": readies, "baseline": base, **figures}
    return outcome

"""`cycles run` as a real process (Slack in HTTP mode, against a fake Slack): it serves /healthz
and /metrics on the ops port, and SIGTERM stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

from tests.support.fake_slack import FakeSlack
from tests.support.postgres import free_port

ROOT = Path(__file__).resolve().parents[2]


async def get(url: str) -> tuple[int, str]:
    timeout = aiohttp.ClientTimeout(total=2)
    async with aiohttp.ClientSession(timeout=timeout) as http, http.get(url) as response:
        return response.status, await response.text()


def spawn(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


async def test_cycles_run_serves_health_and_metrics_and_stops_on_sigterm(tmp_path: Path) -> None:
    fake = await FakeSlack().start()
    fake.add_user("U01", "Ada")
    ops = free_port()
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_", "CYCLES_"))
    }
    config = tmp_path / "empty-bot.toml"  # so a bot.toml in the working directory is not read
    config.touch()
    env |= {
        "CYCLES_CONFIG": str(config),
        "CYCLES_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'run.sqlite3'}",
        "CYCLES_DATA_DIR": str(tmp_path / "data"),
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": "secret",
        "SLACK_API_URL": fake.api_url,
        "CYCLES_SLACK__MODE": "http",
        "CYCLES_SLACK__HTTP_HOST": "127.0.0.1",
        "CYCLES_SLACK__HTTP_PORT": "0",
        "CYCLES_OPS__HOST": "127.0.0.1",
        "CYCLES_OPS__PORT": str(ops),
    }
    log = tmp_path / "run.log"
    proc = spawn(env, log)
    try:
        deadline = time.monotonic() + 30
        health = ""
        while True:
            assert proc.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            try:
                status, health = await get(f"http://127.0.0.1:{ops}/healthz")
            except aiohttp.ClientError:
                status = 0
            if status == 200:
                break
            await asyncio.sleep(0.1)
        assert '"scheduler": "leader"' in health  # SQLite: the one process runs it
        status, metrics = await get(f"http://127.0.0.1:{ops}/metrics")
        assert status == 200
        assert "cycles_outbox_depth" in metrics

        proc.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(proc.wait, 30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        await fake.stop()
    text = log.read_text()
    assert code == 0, text
    assert "stopping: intake first, then what is in flight" in text
    assert text.rstrip().endswith("stopped"), text[-2000:]
    assert fake.bot_token not in text

"""Real bot processes for fault tests: start, wait until ready, talk to, SIGTERM or SIGKILL."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parents[2]
# Fast settings for tests: the production defaults (bot.toml) are the same knobs, slower.
FAST_ENV = {
    "CYCLES_OPS__HOST": "127.0.0.1",
    "CYCLES_OPS__PORT": "0",
    "CYCLES_SCHEDULER__TAKEOVER_SECONDS": "0.5",
    "CYCLES_SCHEDULER__TICK_SECONDS": "1",
    "CYCLES_SCHEDULER__RESYNC_SECONDS": "1",
    "CYCLES_OUTBOX__POLL_SECONDS": "0.2",
    "CYCLES_OUTBOX__LEASE_SECONDS": "4",
    "CYCLES_DIGEST__CHARTS": "false",
    "CYCLES_BOT__LOG_LEVEL": "INFO",
}
# Nothing from the developer's shell may point a test bot at a real platform.
STRIPPED = ("SLACK_", "DISCORD_", "OPENAI_", "CYCLES_")


def bot_env(database_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIPPED)}
    env |= FAST_ENV | {"CYCLES_DATABASE_URL": database_url, "CYCLES_DATA_DIR": str(data_dir)}
    return env | extra


@dataclass
class BotProcess:
    name: str
    env: dict[str, str]
    platform_url: str
    workdir: Path
    clock_file: Path | None = None
    proc: subprocess.Popen[bytes] | None = None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def ready_file(self) -> Path:
        return self.workdir / f"{self.name}.ready"

    @property
    def log_file(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self) -> BotProcess:
        self.ready_file.unlink(missing_ok=True)
        self.info = {}
        command = [sys.executable, "-m", "tests.support.bot_process"]
        command += ["--platform", self.platform_url, "--ready", str(self.ready_file)]
        if self.clock_file is not None:
            command += ["--clock-file", str(self.clock_file)]
        with self.log_file.open("ab") as log:
            self.proc = subprocess.Popen(
                command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
            )
        return self

    async def ready(self, within: float = 30.0) -> BotProcess:
        deadline = time.monotonic() + within
        while not self.ready_file.exists():
            if self.proc is not None and self.proc.poll() is not None:
                raise AssertionError(f"{self.name} exited early:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name} not ready in {within}s:\n{self.log_tail()}")
            await asyncio.sleep(0.05)
        self.info = json.loads(self.ready_file.read_text())
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL: no cleanup of any kind, as when a machine dies."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    async def terminate(self, within: float = 30.0) -> int:
        """SIGTERM, then wait for the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + within
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"{self.name} ignored SIGTERM:\n{self.log_tail()}")
            await asyncio.sleep(0.05)
        return int(self.proc.returncode)

    def cleanup(self) -> None:
        if self.alive:
            assert self.proc is not None
            self.proc.kill()
            self.proc.wait(10)

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return "(no log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])

    async def command(
        self,
        text: str,
        *,
        user: str,
        role: str = "member",
        channel: str = "learning",
        tz: str | None = None,
        source_key: str | None = None,
        within: float = 30.0,
    ) -> dict[str, Any]:
        """Type `text` as `user` in `channel`; the answer is the acknowledgement."""
        body = {
            "user": user,
            "name": user.capitalize(),
            "role": role,
            "channel": channel,
            "tz": tz,
            "text": text,
            "source_key": source_key,
        }
        url = f"http://127.0.0.1:{self.info['intake']}/command"
        limit = aiohttp.ClientTimeout(total=within)
        async with aiohttp.ClientSession(timeout=limit) as http, http.post(url, json=body) as resp:
            resp.raise_for_status()
            answer: dict[str, Any] = await resp.json()
            return answer

    async def health(self) -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.info['ops']}/healthz"
        limit = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=limit) as http, http.get(url) as response:
            data: dict[str, Any] = await response.json()
            return data

    async def metrics(self) -> str:
        url = f"http://127.0.0.1:{self.info['ops']}/metrics"
        limit = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=limit) as http, http.get(url) as response:
            return await response.text()


async def until(condition: Any, within: float, what: str, *procs: BotProcess) -> float:
    """Poll `condition()` (sync or async) until true; returns the seconds it took."""
    started = time.monotonic()
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            logs = "\n".join(f"--- {p.name}\n{p.log_tail()}" for p in procs)
            raise AssertionError(f"timed out after {within}s waiting for {what}\n{logs}")
        await asyncio.sleep(0.05)

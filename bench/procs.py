"""Processes for the benchmarks that must not share an interpreter with the load they measure:
spawning `python -m bench.<worker>`, reading a process's memory from /proc, free ports."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

from bench.suite import ROOT


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory(pid: int) -> dict[str, float]:
    """Resident memory of a process in MB: now (VmRSS) and its peak so far (VmHWM)."""
    out = {"rss_mb": float("nan"), "peak_rss_mb": float("nan")}
    try:
        text = Path(f"/proc/{pid}/status").read_text(encoding="ascii")
    except OSError:
        return out
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            kb = float(rest.split()[0])
            out["rss_mb" if name == "VmRSS" else "peak_rss_mb"] = kb / 1024
    return out


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment a child process gets: this one's, without any bot settings from the
    caller's shell (a benchmark says exactly what it wants), plus `extra`."""
    keep = {
        k: v
        for k, v in os.environ.items()
        if k.startswith("CYCLES_BENCH_")
        or not k.startswith(("CYCLES_", "SLACK_", "DISCORD_", "OPENAI_"))
    }
    keep["PYTHONPATH"] = str(ROOT) + os.pathsep + keep.get("PYTHONPATH", "")
    return {**keep, **(extra or {})}


# The longest line a worker may print (the steady benchmark's response times run to megabytes).
LINE_LIMIT = 2**24


@contextlib.asynccontextmanager
async def worker(
    module: str, *args: str, env: Mapping[str, str] | None = None, cwd: Path | None = None
) -> AsyncIterator[Worker]:
    """A `python -m <module> args…` child that speaks one JSON object per stdout line. Its
    stderr goes to a file (a pipe nobody reads would fill up and stall it)."""
    errors = tempfile.TemporaryFile()  # noqa: SIM115 (closed below, after the child)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        module,
        *args,
        cwd=str(cwd or ROOT),
        env=child_env(env),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=errors,
        limit=LINE_LIMIT,
    )
    handle = Worker(process, errors)
    try:
        yield handle
    finally:
        await handle.close()
        errors.close()


class Worker:
    def __init__(self, process: asyncio.subprocess.Process, errors: Any = None) -> None:
        self.process = process
        self._errors = errors

    @property
    def pid(self) -> int:
        return self.process.pid

    async def read(self, within: float = 120.0) -> dict[str, Any]:
        """The next JSON line the child printed (other lines are skipped)."""
        assert self.process.stdout is not None
        while True:
            line = await asyncio.wait_for(self.process.stdout.readline(), within)
            if not line:
                raise RuntimeError(f"worker exited early: {await self._stderr()}")
            text = line.decode().strip()
            if text.startswith("{"):
                found: dict[str, Any] = json.loads(text)
                return found

    async def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(message) + "\n").encode())
        await self.process.stdin.drain()

    async def _stderr(self) -> str:
        return self.stderr()

    def stderr(self) -> str:
        """The end of what the child wrote to stderr so far."""
        if self._errors is None:
            return ""
        self._errors.seek(0)
        return bytes(self._errors.read()).decode(errors="replace")[-1500:]

    async def close(self) -> None:
        """Close its stdin (workers stop cleanly on that), then terminate it if it lingers."""
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 60)
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            try:
                await asyncio.wait_for(self.process.wait(), 30)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    self.process.kill()
                await self.process.wait()

"""Files are written whole or not at all, and a full disk is said in words, not a traceback."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from bot.commands import Dispatcher, make_dispatcher
from bot.domain import Actor, Platform, Reply, Role
from bot.errors import DiskFull
from bot.files import write_atomic
from bot.services.context import Deps
from tests.support import world
from tests.support.chat import HERE
from tests.support.clock import Clock

FAY = Actor(Platform.CONSOLE, "console", "u1", "Fay", platform_role=Role.FACILITATOR)
FULL = "Could not write {}: the disk is full. Ask an admin to free space."


def test_a_file_is_replaced_whole(tmp_path: Path) -> None:
    target = tmp_path / "deep" / "file.json"
    write_atomic(target, b"first", what="the file")
    write_atomic(target, b"second", what="the file", mode=0o600)
    assert target.read_bytes() == b"second"
    assert target.stat().st_mode & 0o777 == 0o600
    assert os.listdir(target.parent) == ["file.json"]


def test_a_file_size_limit_leaves_nothing_behind(tmp_path: Path) -> None:
    """The kernel refuses the write for real: a child process under RLIMIT_FSIZE."""
    script = textwrap.dedent(
        f"""
        import resource, signal, sys
        from pathlib import Path
        from bot.errors import DiskFull
        from bot.files import write_atomic
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
        try:
            write_atomic(Path({str(tmp_path / "out" / "chart.png")!r}), b"x" * 100_000,
                         what="the digest chart")
        except DiskFull as exc:
            print(exc)
            sys.exit(3)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 3, done.stderr
    assert done.stdout.strip() == FULL.format("the digest chart")
    assert os.listdir(tmp_path / "out") == []


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Writes to files under this test's directory fail as on a full disk; all others work."""
    real_write = os.write

    def write(fd: int, data: bytes) -> int:
        if os.readlink(f"/proc/self/fd/{fd}").startswith(str(tmp_path)):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)


def files_under(path: Path) -> list[Path]:
    return [p for p in path.rglob("*") if p.is_file()] if path.exists() else []


@pytest.mark.usefixtures("full_disk")
async def test_export_on_a_full_disk(deps: Deps) -> None:
    bot: Dispatcher = make_dispatcher(deps)
    reply = await bot.handle(FAY, HERE, "export")
    assert isinstance(reply, Reply)
    assert reply.message.text == FULL.format("the export")
    assert files_under(deps.settings.bot.data_dir / "exports") == []


@pytest.mark.usefixtures("full_disk")
async def test_digest_preview_on_a_full_disk(deps: Deps, clock: Clock) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s)
        ada = await world.member(s, "u9", "Ada")
        e = await world.experiment(s, g, "Doorstep", started_at=clock() - timedelta(days=2))
        await world.checkin(s, e, ada, "The door opened.", at=clock())
    bot: Dispatcher = make_dispatcher(deps)
    reply = await bot.handle(FAY, HERE, "digest preview")
    assert isinstance(reply, Reply)
    assert reply.message.text == FULL.format("the digest chart")
    assert files_under(deps.settings.bot.data_dir / "charts") == []


def test_disk_full_names_the_file() -> None:
    assert str(DiskFull("the export")) == FULL.format("the export")

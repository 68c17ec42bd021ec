"""Start-up checks in process: a server that never answers, and a damaged file."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.store import startup
from bot.store.database import Database, StartupFailed


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that takes TCP connections (the backlog) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


async def test_a_server_that_never_answers_is_reported_not_waited_on(
    silent_port: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(startup, "CONNECT_SECONDS", 0.5)
    db = Database(f"postgresql+psycopg://postgres@127.0.0.1:{silent_port}/cycles")
    try:
        with pytest.raises(StartupFailed) as info:
            await startup.check(db)
    finally:
        await db.dispose()
    assert str(info.value) == (
        f"database: no answer from PostgreSQL at 127.0.0.1:{silent_port} within 0.5 s; check "
        "that the host is reachable, or fix bot.database_url (CYCLES_DATABASE_URL)."
    )


async def test_a_healthy_sqlite_file_passes_the_check(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'cycles.sqlite3'}")
    try:
        await startup.check(db)
    finally:
        await db.dispose()

"""Start-up checks in process: a server that never answers, and a damaged file."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from bot.errors import ConfigError
from bot.store import startup
from bot.store.database import Database, StartupFailed
from tests.conftest import PG_URL


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that takes TCP connections (the backlog) and never says a word."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield int(sock.getsockname()[1])


@pytest.mark.parametrize("driver", ["postgresql+asyncpg", "postgresql+psycopg"])
async def test_a_server_that_never_answers_is_reported_not_waited_on(
    silent_port: int, monkeypatch: pytest.MonkeyPatch, driver: str
) -> None:
    monkeypatch.setattr(startup, "CONNECT_SECONDS", 0.5)
    db = Database(f"{driver}://postgres@127.0.0.1:{silent_port}/cycles")
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


def test_options_that_are_not_settings_are_refused_in_one_line() -> None:
    with pytest.raises(ConfigError) as info:
        Database("postgresql+asyncpg://postgres@127.0.0.1/cycles?options=-x%20y")
    assert str(info.value) == (
        "database: the options '-x y' are not settings such as -c search_path=cycles; "
        "fix bot.database_url (CYCLES_DATABASE_URL)."
    )


@pytest.mark.skipif(not PG_URL, reason="CYCLES_TEST_POSTGRES_URL is not set")
@pytest.mark.parametrize("driver", ["postgresql+asyncpg", "postgresql+psycopg"])
async def test_settings_in_the_urls_options_reach_the_server(driver: str) -> None:
    """libpq's `options` and `sslmode` in the URL work on both drivers (asyncpg takes them
    as server settings and as `ssl`)."""
    options = "-c search_path=cycles_x -cstatement_timeout=4321 --lock-timeout=1234"
    query = {"options": options, "sslmode": "disable"}
    url = make_url(PG_URL).set(drivername=driver).update_query_dict(query)
    db = Database(url.render_as_string(hide_password=False))

    async def setting(name: str) -> str:
        return str(await db.read(lambda c: c.scalar(text(f"SHOW {name}"))))

    try:
        shown = [await setting(n) for n in ("search_path", "statement_timeout", "lock_timeout")]
    finally:
        await db.dispose()
    assert shown == ["cycles_x", "4321ms", "1234ms"]

"""Fault tests: real bot processes (tests/support/bot_process.py) against PostgreSQL, a fake
platform over loopback that outlives them, SIGKILL and SIGTERM, a restarted database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine

from tests.conftest import PG_URL, empty_database
from tests.support.loopback import FakePlatform
from tests.support.postgres import synchronous
from tests.support.processes import BotProcess, bot_env

MakeBot = Callable[..., BotProcess]


@pytest.fixture
def pg_url(tmp_path: Path) -> Iterator[str]:
    """A schema of its own on the machine's PostgreSQL."""
    if not PG_URL:
        pytest.skip("CYCLES_TEST_POSTGRES_URL is not set")
    with empty_database("postgresql", tmp_path) as url:
        yield url


@pytest.fixture
def sql(pg_url: str) -> Iterator[Engine]:
    """The test's own (synchronous) view of the bots' database."""
    engine = create_engine(synchronous(pg_url))
    yield engine
    engine.dispose()


@pytest.fixture
async def platform() -> AsyncIterator[FakePlatform]:
    fake = await FakePlatform().start()
    yield fake
    await fake.close()


@pytest.fixture
def bots(tmp_path: Path, platform: FakePlatform) -> Iterator[MakeBot]:
    """Make bot processes; whatever is still running at the end is killed."""
    made: list[BotProcess] = []

    def make(
        name: str, database_url: str, *, clock_file: Path | None = None, **env: str
    ) -> BotProcess:
        data = tmp_path / name
        data.mkdir(exist_ok=True)
        bot = BotProcess(
            name, bot_env(database_url, data, **env), platform.url, tmp_path, clock_file
        )
        made.append(bot)
        return bot

    yield make
    for bot in made:
        bot.cleanup()

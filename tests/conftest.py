"""Shared fixtures: a database on SQLite (a file) and, when CYCLES_TEST_POSTGRES_URL is set, on
PostgreSQL (a schema of its own per test); and a guard that fails any test touching the network
beyond loopback."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bot.adapters import AdapterRegistry
from bot.config import BUNDLED_PROMPTS, Settings, load_settings
from bot.services.context import Deps
from bot.services.templates import load_templates
from bot.store.base import Base
from bot.store.database import Database
from tests.support.clock import Clock
from tests.support.postgres import synchronous

PG_URL = os.environ.get("CYCLES_TEST_POSTGRES_URL", "")
ROOT = Path(__file__).resolve().parent.parent

DB_PARAMS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not PG_URL, reason="CYCLES_TEST_POSTGRES_URL is not set"),
    ),
]


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing but loopback is reachable here; a test that tries is a test bug."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: Any) -> Any:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = str(address[0])
            if host not in ("127.0.0.1", "::1", "localhost") and not host.startswith("127."):
                raise AssertionError(f"test tried to reach {host}: only loopback is allowed")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(path=None, env={"CYCLES_DATA_DIR": str(tmp_path / "data")})


def _pg_schema_url(schema: str) -> str:
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"


@contextmanager
def empty_database(kind: str, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database URL: a SQLite file, or a PostgreSQL schema dropped afterwards."""
    if kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(synchronous(PG_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_schema_url(schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=DB_PARAMS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no tables), on SQLite and on PostgreSQL."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture(params=DB_PARAMS)
async def db(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Database]:
    """A database with every table, on SQLite and on PostgreSQL."""
    with empty_database(request.param, tmp_path) as url:
        database = Database(url)
        async with database.engine.begin() as conn:
            await conn.run_sync(Base.metadata.create_all)
        try:
            yield database
        finally:
            await database.dispose()


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


@pytest.fixture
def deps(settings: Settings, db: Database, clock: Clock) -> Deps:
    from bot.summarise.factory import make_summariser

    return Deps(
        settings=settings,
        db=db,
        adapters=AdapterRegistry(),
        templates=load_templates(BUNDLED_PROMPTS / "rounds"),
        summariser=make_summariser(settings),
        clock=clock,
    )

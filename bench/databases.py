"""Fresh databases for a benchmark: a SQLite file in a temporary folder, or a PostgreSQL schema
of its own (dropped afterwards), with every table created; and the rows a benchmark starts from."""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.domain import Actor, ChannelRef, Platform
from bot.services import experiments, groups, members
from bot.store.base import Base
from bot.store.database import Database
from bot.store.models import Experiment, Group, Member
from tests.support.postgres import synchronous


def schema_url(url: str, schema: str) -> str:
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@contextlib.asynccontextmanager
async def fresh(kind: str, pg_url: str = "") -> AsyncIterator[Database]:
    """An empty database with every table: kind is "sqlite" or "postgresql"."""
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="cycles-bench-db-") as tmp:
            db = Database(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.sqlite3'}")
            try:
                await create_all(db)
                yield db
            finally:
                await db.dispose()
        return
    with schema_of(pg_url) as url:
        db = Database(url)
        try:
            await create_all(db)
            yield db
        finally:
            await db.dispose()


@contextlib.contextmanager
def schema_of(pg_url: str) -> Iterator[str]:
    """A PostgreSQL schema of its own, dropped afterwards: the URL that works in it."""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(synchronous(pg_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(pg_url, schema)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


async def create_all(db: Database) -> None:
    async with db.engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)


@dataclass(frozen=True)
class Seeded:
    group: Group
    experiment: Experiment
    members: list[Member]


async def seed(
    db: Database, people: int, now: datetime, channel: ChannelRef | None = None
) -> Seeded:
    """A group in a channel, `people` members and one running experiment, through the services."""
    where = channel or ChannelRef(Platform.SLACK, "T0001", "C1")
    async with db.begin() as session:
        group = await groups.ensure_group(session, where, name="Frontline", timezone="UTC")
        found = [
            await members.ensure_member(
                session, Actor(where.platform, where.workspace, f"U{n:05d}", f"Person {n}")
            )
            for n in range(people)
        ]
        experiment = await experiments.create_experiment(
            session,
            group,
            title="Home visits",
            hypothesis="Visits at home build trust",
            try_="Visit every new family at home",
            expect="More families come back",
            cycle_id=None,
            owner_id=found[0].id,
            now=now,
        )
    return Seeded(group, experiment, found)

"""Migrations: empty -> head -> base -> head, and head matches the models exactly."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.store import migrate
from bot.store.base import Base
from bot.store.database import Database


async def test_upgrade_downgrade_upgrade(database_url: str) -> None:
    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        assert await migrate.current(db) is not None
        async with db.engine.connect() as conn:
            tables = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert set(Base.metadata.tables) <= tables

        await migrate.downgrade(db, "base")
        async with db.engine.connect() as conn:
            left = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        assert left <= {"alembic_version"}

        await migrate.upgrade(db)
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c), Base.metadata)
            )
        assert diff == [], f"models and migrations differ: {diff}"
    finally:
        await db.dispose()


SHELLS = 4


@pytest.mark.parametrize("command", [("shell",), ("db", "upgrade")], ids=" ".join)
def test_processes_started_together_on_a_fresh_database_all_start(
    command: tuple[str, ...], database_url: str, tmp_path: Path
) -> None:
    """Each migrates on start (a shell loads the templates too); they take turns under the
    migration lock and the later ones find the work done."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CYCLES_"))}
    env |= {"CYCLES_DATABASE_URL": database_url, "CYCLES_DATA_DIR": str(tmp_path)}
    shells = [
        subprocess.Popen(
            [sys.executable, "-m", "bot", *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(SHELLS)
    ]
    done = [shell.communicate("cycle list\n", timeout=120) for shell in shells]
    failed = [err for shell, (_, err) in zip(shells, done, strict=True) if shell.returncode]
    assert failed == []
    assert all(("cycle list" in out) == (command == ("shell",)) for out, _ in done)

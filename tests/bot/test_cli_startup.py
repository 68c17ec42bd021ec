"""Start-up failures, as a new user meets them: the real `cycles` command in a subprocess exits
non-zero with one line on stderr saying what is wrong and how to fix it, never a traceback."""

from __future__ import annotations

import os
import resource
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import make_url

from tests.support.postgres import free_port

PG_URL = os.environ.get("CYCLES_TEST_POSTGRES_URL", "")
STRIPPED = ("SLACK_", "DISCORD_", "OPENAI_", "CYCLES_")
# Every command that opens the database; `demo` always uses a SQLite file of its own.
COMMANDS = [("run",), ("shell",), ("db", "upgrade")]
SQLITE_COMMANDS = [*COMMANDS, ("demo",)]
# Both PostgreSQL drivers the configuration accepts fail the same way.
DRIVERS = ["postgresql+asyncpg", "postgresql+psycopg"]


def cycles(
    args: tuple[str, ...],
    env: dict[str, str],
    *,
    limit: Callable[[], None] | None = None,
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(STRIPPED)}
    clean |= {"CYCLES_OPS__HOST": "127.0.0.1", "CYCLES_OPS__PORT": "0"}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=clean | env,
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
        preexec_fn=limit,
    )


def one_line_failure(done: subprocess.CompletedProcess[str]) -> str:
    """The single stderr line of a failed start."""
    assert done.returncode != 0, done.stdout
    assert "Traceback" not in done.stderr, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def failing_with(url: str, args: tuple[str, ...] = ("db", "upgrade")) -> str:
    """The one line `cycles <args>` fails with on the database at `url`."""
    return one_line_failure(cycles(args, {"CYCLES_DATABASE_URL": url}))


def sqlite_args(args: tuple[str, ...], database: Path) -> tuple[tuple[str, ...], dict[str, str]]:
    """`args` pointed at the SQLite file `database` (demo takes it as --db)."""
    if args == ("demo",):
        return ("demo", "--db", str(database)), {}
    return args, {"CYCLES_DATABASE_URL": f"sqlite+aiosqlite:///{database}"}


@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_postgres_down(args: tuple[str, ...], driver: str) -> None:
    port = free_port()  # nothing listens there
    url = f"{driver}://postgres@127.0.0.1:{port}/cycles"
    assert failing_with(url, args) == (
        f"database: cannot connect to PostgreSQL at 127.0.0.1:{port} (connection refused); "
        "start it or fix bot.database_url (CYCLES_DATABASE_URL)."
    )


@pytest.mark.parametrize("driver", DRIVERS)
def test_an_option_the_driver_does_not_take(driver: str) -> None:
    url = f"{driver}://postgres@127.0.0.1:{free_port()}/cycles?bogus=1"
    assert failing_with(url) == (
        f"database: the URL's option 'bogus' is not one {driver.split('+')[1]} takes (for TLS, "
        "sslmode=require works with both drivers); fix bot.database_url (CYCLES_DATABASE_URL)."
    )


@pytest.mark.parametrize("driver", DRIVERS)
def test_unreachable_host(driver: str) -> None:
    line = failing_with(f"{driver}://postgres@127.0.0.2:{free_port()}/cycles")
    assert line.startswith("database: cannot connect to PostgreSQL at 127.0.0.2:")
    assert "fix bot.database_url (CYCLES_DATABASE_URL)" in line


@pytest.mark.skipif(not PG_URL, reason="CYCLES_TEST_POSTGRES_URL is not set")
@pytest.mark.parametrize("driver", DRIVERS)
@pytest.mark.parametrize("args", COMMANDS, ids=" ".join)
def test_missing_database(args: tuple[str, ...], driver: str) -> None:
    url = make_url(PG_URL).set(drivername=driver, database="cycles_never_created")
    env = {"CYCLES_DATABASE_URL": url.render_as_string(hide_password=False)}
    line = one_line_failure(cycles(args, env))
    assert "has no database 'cycles_never_created'; create it (createdb " in line
    assert line.endswith("or fix bot.database_url (CYCLES_DATABASE_URL).")


@pytest.mark.parametrize("args", SQLITE_COMMANDS, ids=" ".join)
def test_data_dir_that_cannot_be_made(args: tuple[str, ...], tmp_path: Path) -> None:
    # Permissions do not stop root; a folder whose parent is a regular file stops anyone.
    (tmp_path / "a-file").write_text("")
    database = tmp_path / "a-file" / "data" / "cycles.sqlite3"
    argv, env = sqlite_args(args, database)
    line = one_line_failure(cycles(argv, env))
    assert line == (
        f"database: cannot create the folder {database.parent} (Not a directory); set "
        "bot.data_dir (CYCLES_DATA_DIR) to a writable folder."
    )


def _small_files() -> None:
    # A full disk, as the process sees it: writes past 16 KiB fail with EFBIG.
    resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))


@pytest.mark.parametrize("args", SQLITE_COMMANDS, ids=" ".join)
def test_full_disk(args: tuple[str, ...], tmp_path: Path) -> None:
    database = tmp_path / "data" / "cycles.sqlite3"
    argv, env = sqlite_args(args, database)
    line = one_line_failure(cycles(argv, env, limit=_small_files))
    assert line.startswith(f"database: cannot write the SQLite file {database} (")
    assert line.endswith(
        "the disk may be full: free space or move bot.data_dir (CYCLES_DATA_DIR) to a disk "
        "with room."
    )


def damaged_database(folder: Path) -> Path:
    """A migrated database with damaged pages that opening it and migrating do not notice."""
    database = folder / "cycles.sqlite3"
    ready = cycles(("db", "upgrade"), {"CYCLES_DATABASE_URL": f"sqlite+aiosqlite:///{database}"})
    assert ready.returncode == 0, ready.stderr
    with sqlite3.connect(database) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.executemany("INSERT INTO notes VALUES (?)", [("x" * 100,)] * 2000)
    pages = database.stat().st_size // 4096
    with database.open("r+b") as raw:
        raw.seek((pages - 10) * 4096 + 100)
        raw.write(b"\xff" * 300)
    return database


@pytest.mark.parametrize("args", SQLITE_COMMANDS, ids=" ".join)
def test_damaged_sqlite_file(args: tuple[str, ...], tmp_path: Path) -> None:
    database = damaged_database(tmp_path)
    argv, env = sqlite_args(args, database)
    line = one_line_failure(cycles(argv, env))
    assert line.startswith(f"database: the SQLite file {database} is damaged (")
    assert line.endswith("restore it from a backup, or move it aside to start with an empty one.")


def test_sqlite_file_that_is_not_a_database(tmp_path: Path) -> None:
    database = tmp_path / "cycles.sqlite3"
    database.write_bytes(b"not a database at all " * 400)
    argv, env = sqlite_args(("shell",), database)
    line = one_line_failure(cycles(argv, env))
    assert line.startswith(f"database: the SQLite file {database} is damaged (file is not a")


@pytest.mark.parametrize("args", SQLITE_COMMANDS, ids=" ".join)
def test_config_that_is_not_utf8(args: tuple[str, ...], tmp_path: Path) -> None:
    config = tmp_path / "bot.toml"
    config.write_bytes('[bot]\ntimezone = "Europe/Zürich"\n'.encode("latin-1"))
    env = {"CYCLES_DATA_DIR": str(tmp_path / "data")}
    line = one_line_failure(cycles((*args, "--config", str(config)), env))
    assert line == (
        f"config: {config} is not UTF-8 text (byte 0xfc at offset 26). Fix: save it as UTF-8."
    )


def test_unknown_default_round_template(tmp_path: Path) -> None:
    env = {"CYCLES_DATA_DIR": str(tmp_path), "CYCLES_ROUNDS__DEFAULT_TEMPLATE": "nope"}
    line = one_line_failure(cycles(("shell",), env))
    assert line.startswith("config: rounds.default_template = 'nope' is not a round template.")
    assert "Fix: use one of " in line and "weekly-reflection" in line


def test_digest_schedule_that_never_parses_stops_the_start(tmp_path: Path) -> None:
    env = {"CYCLES_DATA_DIR": str(tmp_path), "CYCLES_DIGEST__SCHEDULE": "61 * * * *"}
    line = one_line_failure(cycles(("shell",), env))
    assert line.startswith("config: digest.schedule = '61 * * * *' is invalid: '61': the last")

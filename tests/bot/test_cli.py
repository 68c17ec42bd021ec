from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from typer.testing import CliRunner

from bot import cli as cli_module
from bot.config import Settings
from bot.store import migrate


def cycles(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
        check=False,
    )


def test_help_lists_the_subcommands() -> None:
    done = cycles("--help")
    assert done.returncode == 0
    for name in ("run", "shell", "demo", "db", "slack-manifest"):
        assert name in done.stdout


def test_bad_config_fails_at_start_with_one_line(tmp_path: Path) -> None:
    done = cycles("db", "upgrade", env={"CYCLES_BOT__TIMEZONE": "Nowhere/Land"})
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0
    assert "bot.timezone = 'Nowhere/Land' is invalid" in done.stderr


def test_db_upgrade_then_downgrade(tmp_path: Path) -> None:
    env = {"CYCLES_DATA_DIR": str(tmp_path)}
    up = cycles("db", "upgrade", env=env)
    assert up.returncode == 0, up.stderr
    head = ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    assert f"database at {head}" in up.stdout
    down = cycles("db", "downgrade", "base", env=env)
    assert down.returncode == 0, down.stderr
    assert "database at None" in down.stdout


def test_slack_manifest_prints_json_or_one_line_of_fix(tmp_path: Path) -> None:
    import json

    ok = cycles("slack-manifest", env={"CYCLES_DATA_DIR": str(tmp_path)})
    assert ok.returncode == 0, ok.stderr
    assert "/cycles" in json.dumps(json.loads(ok.stdout))
    http = cycles("slack-manifest", env={"CYCLES_SLACK__MODE": "http"})
    assert http.returncode == 2
    assert "Traceback" not in http.stderr
    assert http.stderr.strip().count("\n") == 0


def test_shell_reads_undecodable_bytes_as_replacement_characters(tmp_path: Path) -> None:
    """Strict UTF-8 on stdin (as PYTHONIOENCODING=utf-8 gives): a stray byte is one odd
    character, the shell answers and reads on."""
    script = b'\xff\xfe bad\nexperiment new title="Door\xffstep" hypothesis=h try=t expect=e\n'
    env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "CYCLES_DATA_DIR": str(tmp_path / "data"),
        "CYCLES_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'shell.sqlite3'}",
    }
    done = subprocess.run(
        [sys.executable, "-m", "bot", "shell"],
        input=script,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )
    out = done.stdout.decode()
    assert done.returncode == 0, done.stderr.decode()
    assert "Traceback" not in out + done.stderr.decode()
    assert "Unknown command '\ufffd\ufffd'" in out
    assert "Experiment #1 *Door\ufffdstep* started" in out


def test_port_is_every_platforms_with_slack_http_too(monkeypatch: pytest.MonkeyPatch) -> None:
    # Before, --slack-http gave --port to Slack alone and Teams kept [teams] http_port.
    seen: list[Settings] = []

    async def serve(settings: Settings) -> None:
        seen.append(settings)

    monkeypatch.setattr(cli_module, "_serve", serve)
    monkeypatch.setenv("CYCLES_CONFIG", "none")
    done = CliRunner().invoke(cli_module.cli, ["run", "--slack-http", "--port", "4321"])
    assert done.exit_code == 0, done.output
    [settings] = seen
    assert (settings.slack.mode, settings.slack.http_port, settings.teams.http_port) == (
        "http",
        4321,
        4321,
    )

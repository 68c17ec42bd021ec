"""Console scenarios driven through stdin, as a person (or a script) would type them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from bot.app import build_app
from bot.config import Settings
from integrations.console.adapter import ConsoleAdapter
from integrations.console.lines import StreamLines
from integrations.console.shell import Shell


async def run_script(settings: Settings, lines: list[str]) -> str:
    out = io.StringIO()
    adapter = ConsoleAdapter(out)
    app = await build_app(settings, adapters=[adapter], with_scheduler=False)
    try:
        await Shell(app, adapter, StreamLines(lines, out), out).run()
    finally:
        await app.stop()
    return out.getvalue()


async def test_form_filled_field_by_field_with_an_error_asked_again(settings: Settings) -> None:
    out = await run_script(
        settings,
        [
            "cycle new",
            "Eastgate team",  # name
            "What happens when we ask what matters?",  # question
            "galaxy",  # scale: wrong
            "",  # parent: optional
            "team",  # scale again
            "cycle list",
        ],
    )
    assert "[form] New learning cycle" in out
    assert "scale: scale must be one of: person, team" in out
    assert "Cycle #1 *Eastgate team* (team) created" in out
    assert "#1 Eastgate team [team]" in out


async def test_members_switch_and_refusals_are_short(settings: Settings) -> None:
    out = await run_script(
        settings,
        [
            "as ben",
            "role add amara facilitator",
            "frobnicate",
            'cycle new name="x',
            "whoami",
        ],
    )
    assert "Only an admin can use `role add`." in out
    assert "Unknown command 'frobnicate'" in out
    assert "A quote is not closed" in out
    assert "Traceback" not in out


def test_cycles_shell_reads_stdin_when_piped(tmp_path: Path) -> None:
    env = {**os.environ, "CYCLES_DATA_DIR": str(tmp_path)}
    script = 'cycle new name=Place question="Why?" scale=place\ncycle list\nhelp cycle new\n'
    done = subprocess.run(
        [sys.executable, "-m", "bot", "shell"],
        input=script,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "Cycle #1 *Place* (place) created" in done.stdout
    assert "scale: Scale: one of person, team, organisation, place, country" in done.stdout
    assert (tmp_path / "cycles.sqlite3").exists()

"""Console scenarios driven through stdin, as a person (or a script) would type them."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.app import build_app
from bot.config import Settings, load_settings
from integrations.console.adapter import ConsoleAdapter
from integrations.console.lines import StreamLines
from integrations.console.shell import Shell
from tests.support.postgres import PrivatePostgres, running


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


class ScriptWithActions:
    """Lines as StreamLines reads them; a callable in the script runs (a server stopped or
    started) before the next line is read."""

    def __init__(self, script: list[str | Callable[[], None]], out: io.StringIO) -> None:
        self._script = iter(script)
        self._lines = StreamLines((), out)
        self._out = out

    async def read(self, prompt: str) -> str | None:
        for item in self._script:
            if callable(item):
                item()
                continue
            self._lines = StreamLines([item], self._out)
            return await self._lines.read(prompt)
        return None


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    with running() as made:
        yield made


async def test_the_shell_keeps_reading_while_the_database_is_away(
    server: PrivatePostgres, tmp_path: Path
) -> None:
    settings = load_settings(
        None, {"CYCLES_DATA_DIR": str(tmp_path), "CYCLES_DATABASE_URL": server.url}
    )
    out = io.StringIO()
    adapter = ConsoleAdapter(out)
    app = await build_app(settings, adapters=[adapter], with_scheduler=False)
    script: list[str | Callable[[], None]] = [
        "cycle new name=Before question=Why? scale=team",
        lambda: server.stop("immediate"),
        "cycle new name=During question=Why? scale=team",
        "cycle list",
        "who",
        lambda: server.start(),
        "cycle new name=After question=Why? scale=team",
        "cycle list",
    ]
    try:
        await Shell(app, adapter, ScriptWithActions(script, out), out).run()
    finally:
        await app.stop()
    text = out.getvalue()
    assert "Traceback" not in text
    assert text.count("Not saved: the database is unavailable") == 2  # each command said so
    assert "members: facilitator" in text
    after = text.split("facilitator> cycle new name=After")[1]
    assert "*After* (team) created" in after
    assert "Before" in after and "During" not in after


async def test_a_template_with_a_choice_is_written_and_answered_with_numbered_options(
    settings: Settings,
) -> None:
    no_more = ["", "", ""]  # a question left out: its text, kind and options
    out = await run_script(
        settings,
        [
            "round template new",
            "Retro",  # name
            "retro",  # key
            "",  # intro
            "",  # duration: keeps 3d
            "",  # visibility: keeps group
            "What did we try?",
            "",  # kind: keeps text
            "",  # options
            "Which part did this touch?",
            "2",  # kind: the second option, choice
            "Intake | Triage",
            *no_more * 3,
            "round start retro",
            "answer",
            "a pilot",
            "2",  # the second option, Triage
            "",  # surprise
            "",  # visibility
            "",  # named
            "digest preview",
        ],
    )
    assert "q1_kind (Question 1 kind; 1) text 2) choice 3) dyad; enter keeps: text)>" in out
    assert "Saved *Retro* (`retro`): 1 free-text question, 1 choice; open for 3d" in out
    assert "q2 (Which part did this touch?; 1) Intake 2) Triage; optional)>" in out
    assert "Saved your answers to round #1 (2 of 2 questions" in out
    assert "Triage  ████████████ 1" in out
    assert "Traceback" not in out

"""`help`, `help <command>` and `help <word>` for the commands under a word."""

from __future__ import annotations

import pytest

from bot.commands import Dispatcher, all_specs
from tests.support.chat import ADA, said


async def say(bot: Dispatcher, text: str) -> str:
    return await said(bot, ADA, text)


@pytest.mark.parametrize("word", ["cycle", "round", "experiment", "digest", "alarms", "group"])
async def test_help_on_a_word_lists_every_command_under_it(bot: Dispatcher, word: str) -> None:
    out = await say(bot, f"help {word}")
    assert "No command" not in out
    under = [s for s in all_specs() if len(s.path) > 1 and s.path[0] == word]
    assert under
    for spec in under:
        assert f"`{spec.usage}`" in out, spec.name


async def test_help_round_says_who_may_run_each(bot: Dispatcher) -> None:
    out = await say(bot, "help round")
    assert "`round start [template] [for <duration>]`" in out
    start = next(line for line in out.splitlines() if "`round start" in line)
    assert start.endswith("(facilitators)")


async def test_help_on_a_command_still_lists_its_fields(bot: Dispatcher) -> None:
    out = await say(bot, "help cycle new")
    assert "Fields" in out and "scale" in out
    assert "`cycle list`" not in out  # one command, not its neighbours


async def test_help_on_something_unknown_says_so(bot: Dispatcher) -> None:
    assert "No command 'nothing here'" in await say(bot, "help nothing here")

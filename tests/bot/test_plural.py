"""Counts agree with their words, in the helper and in the messages that print them."""

from __future__ import annotations

from bot.commands import Dispatcher
from bot.domain import Role
from bot.domain.plural import plural
from tests.support.chat import actor, said

FRAN = actor("u0", "Fran", Role.ADMIN)


def test_one_is_singular_everything_else_plural() -> None:
    assert plural(1, "experiment") == "1 experiment"
    assert plural(0, "experiment") == "0 experiments"
    assert plural(2, "person", "people") == "2 people"
    assert plural(1, "person", "people") == "1 person"
    assert plural(1.0, "day") == "1 day"
    assert plural(1.5, "day") == "1.5 days"
    assert plural(1_000_000, "entry", "entries") == "1000000 entries"


async def say(bot: Dispatcher, text: str) -> str:
    return await said(bot, FRAN, text)


async def test_cycle_list_and_group_count_in_the_singular(bot: Dispatcher) -> None:
    await say(bot, 'cycle new name=Clinic question="Why wait?" scale=team')
    await say(bot, "experiment new title=Walk-in hypothesis=H try=T expect=E cycle=1")
    assert "(1 experiment)" in await say(bot, "cycle list")
    assert "in 1 place:" in await say(bot, "group")

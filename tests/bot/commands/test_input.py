"""Input stays what it is: text is made plain at the edge the same way on every platform and
database, numbers and ids are ASCII digits, and no value ends in an internal error."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.commands import Dispatcher
from bot.domain import Actor, Platform, Reply, Role
from bot.errors import NotSaved, NotStorable
from bot.services.context import Deps
from bot.store.models import CheckIn, Experiment, Group, Member
from tests.support import chat

ADA = chat.actor("u1", "Ada", Role.FACILITATOR)
NEW = 'experiment new title="{}" hypothesis=h try=t expect=e'
FULL = {"happened": "We ran it", "surprise": "70", "confidence": "40"}


async def say(bot: Dispatcher, text: str, fields: dict[str, str] | None = None) -> Reply:
    return await chat.say(bot, ADA, text, fields=fields)


async def experiments(deps: Deps) -> list[Experiment]:
    async with deps.db.begin() as s:
        return list((await s.execute(select(Experiment))).scalars())


@pytest.mark.parametrize("invisible", ["\u200b", "\u200b\ufeff\u2060", "\x1b[0m", "\x00\x07"])
async def test_invisible_only_text_is_empty(bot: Dispatcher, deps: Deps, invisible: str) -> None:
    inline = await say(bot, NEW.format(invisible))
    assert inline.errors == {
        "title": "title is empty: it holds only invisible or control characters."
    }
    assert await experiments(deps) == []
    await say(bot, NEW.format("Doorstep"))
    form = await say(bot, "checkin 1", {**FULL, "happened": invisible})
    assert form.errors == {
        "happened": "happened is empty: it holds only invisible or control characters."
    }
    async with deps.db.begin() as s:
        assert (await s.execute(select(CheckIn))).first() is None


async def test_escapes_and_controls_are_neither_stored_nor_echoed(
    bot: Dispatcher, deps: Deps
) -> None:
    title = "\x1b[31mRed\x1b[0m \x1b]0;owned\x07door\x00step\u202e\u200b"
    reply = await say(bot, NEW.format(title))
    assert "*Red doorstep*" in reply.message.text
    happened = "line one\nline\ttwo\x08\x9b2J\r\nthree"
    saved = await say(bot, "checkin 1", {**FULL, "happened": happened})
    assert saved.message.text.startswith("Saved check-in #1")
    [experiment] = await experiments(deps)
    assert experiment.title == "Red doorstep"
    async with deps.db.begin() as s:
        checkin = await s.get_one(CheckIn, 1)
    assert checkin.happened == "line one\nline\ttwo\nthree"  # long text keeps lines and tabs
    shown = (await say(bot, "experiment show 1")).message.text
    assert "\x1b" not in shown and "\x00" not in shown


async def test_text_is_nfc(bot: Dispatcher, deps: Deps) -> None:
    await say(bot, NEW.format("Cafe\u0301"))
    [experiment] = await experiments(deps)
    assert experiment.title == "Caf\u00e9"


@pytest.mark.parametrize("value", ["١٠٠", "1_00", "²", "+5", " 5 ", "5.0", "0x10", "٥"])
async def test_numbers_are_ascii_digits(bot: Dispatcher, deps: Deps, value: str) -> None:
    await say(bot, NEW.format("Doorstep"))
    reply = await say(bot, "checkin 1", {**FULL, "surprise": value})
    assert reply.errors == {
        "surprise": "surprise must be a whole number from 0 to 100 in digits 0-9, like 70."
    }
    async with deps.db.begin() as s:
        assert (await s.execute(select(CheckIn))).first() is None


ID_COMMANDS = [
    "experiment show {}",
    "experiment conclude {}",
    "experiment adopt {}",
    "checkin {}",
    "checkin edit {}",
    "answer {}",
    "round status {}",
    "round remind {}",
    "round close {}",
    "alarms ack {}",
    "alarms resolve {}",
]


@pytest.mark.parametrize("command", ID_COMMANDS)
@pytest.mark.parametrize("value", ["²", "١", "1_0", "+1", "#²", "9" * 30])
async def test_ids_are_ascii_digits(bot: Dispatcher, command: str, value: str) -> None:
    await say(bot, NEW.format("Doorstep"))
    reply = await say(bot, command.format(value))
    assert "is not a" in reply.message.text and "digits 0-9" in reply.message.text, reply


async def test_ids_in_fields_are_ascii_digits(bot: Dispatcher) -> None:
    reply = await say(bot, NEW.format("Doorstep") + " cycle=²")
    assert reply.errors == {
        "cycle": "'²' is not a cycle id. Ids are the numbers shown in lists (digits 0-9), e.g. 12."
    }


async def test_a_huge_timezone_is_refused_in_words(bot: Dispatcher) -> None:
    reply = await say(bot, "timezone " + "A" * 5000)
    assert reply.message.text == (
        "A timezone name is at most 64 characters, like Europe/London or America/New_York."
    )
    assert (await say(bot, "timezone Europe/London")).message.text.startswith(
        "Your timezone is now Europe/London"
    )


async def test_nul_is_stripped_the_same_on_every_database(bot: Dispatcher, deps: Deps) -> None:
    reply = await say(bot, NEW.format("door\x00step"))
    assert "*doorstep*" in reply.message.text
    saved = await say(bot, "checkin 1", {**FULL, "happened": "a\x00b", "learned": "\x00c"})
    assert saved.message.text.startswith("Saved check-in #1")
    async with deps.db.begin() as s:
        checkin = await s.get_one(CheckIn, 1)
    assert (checkin.happened, checkin.learned) == ("ab", "c")


async def test_a_value_the_database_refuses_is_not_called_a_reason_to_retry(
    bot: Dispatcher, deps: Deps
) -> None:
    """PostgreSQL refuses a display name longer than its column (SQLite stores it): that can
    never succeed, so the person is not told to try again."""
    long_name = Actor(Platform.CONSOLE, "console", "u9", "N" * 300)
    reply = await bot.handle(long_name, chat.HERE, "experiment list")
    assert isinstance(reply, Reply)
    if deps.db.is_sqlite:
        assert reply.message.text.startswith("No experiments here yet")
        return
    assert reply.message.text == str(NotStorable())
    assert reply.message.text != str(NotSaved())
    async with deps.db.begin() as s:
        assert (await s.execute(select(Member).where(Member.user_id == "u9"))).first() is None


async def test_a_digest_schedule_longer_than_its_column_is_refused_in_words(
    bot: Dispatcher, deps: Deps
) -> None:
    await say(bot, NEW.format("Doorstep"))
    minutes = ",".join(str(n) for n in range(40))
    reply = await say(bot, f"digest schedule {minutes} 16 * * fri")
    assert reply.message.text.startswith("That schedule is longer than 64 characters")
    async with deps.db.begin() as s:
        [group] = (await s.execute(select(Group))).scalars()
        assert group.digest_schedule is None


async def test_a_week_is_ascii_digits(bot: Dispatcher) -> None:
    await say(bot, NEW.format("Doorstep"))
    reply = await say(bot, "digest show ٢٠٢٦-W48")
    assert reply.message.text == "'٢٠٢٦-W48' is not a week. Use an ISO week such as 2026-W48."

"""The issue's scenarios through the real app: the composition root, the Teams adapter on the
SDK's CloudAdapter over HTTP, activities from a TeamsClient, and a FakeConnector that records
every call the SDK makes."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.models import Response
from tests.integrations.teams.conftest import FACILITATOR, PEOPLE, Bot

START = "round start weekly-reflection for 2d"


async def start_round(bot: Bot) -> None:
    assert await bot.say(FACILITATOR, START) == 202
    await bot.until(lambda: len(bot.prompts()) == len(PEOPLE))


async def test_round_start_reaches_every_member_exactly_once_despite_429s(bot: Bot) -> None:
    bot.fake.throttle.update({PEOPLE[2]: 1, PEOPLE[6]: 2, PEOPLE[18]: 1})
    await start_round(bot)
    await bot.app.drain_outbox()
    assert bot.prompts() == dict.fromkeys(PEOPLE, 1)
    assert len([c for c in bot.fake.calls if c.status == 429]) == 4
    # Every page of the roster was read; the other bot got nothing.
    assert len(bot.fake.calls_to("GET", "/pagedmembers")) == 3
    assert "28:other-bot" not in bot.fake.opened
    # The facilitator's "has started" went to the channel thread.
    started = [p for p in bot.fake.posts if "has started" in p.text]
    assert len(started) == 1 and started[0].user is None

"""Members answer a digest's themes on Slack: the buttons in the digest's thread, the "We see
it differently" modal, and one answer per member and theme however often they click."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.store.models import DigestResponse
from tests.integrations.slack.conftest import ADMIN, CHANNEL, Bot
from tests.integrations.slack.test_scenarios import (
    answer_through_modal,
    response_to,
    start_round,
)
from tests.support.fake_slack import Posted

ANSWERS = (
    ("U02", "Pairing on intake calls made the families trust us sooner."),
    ("U03", "Asking families first what they need changed the whole visit."),
    ("U04", "Pairing on intake calls halved the time to the first visit."),
)


async def posted_digest(bot: Bot) -> Posted:
    """The digest's thread reply that carries the theme buttons."""
    await start_round(bot)
    for user, text in ANSWERS:
        await answer_through_modal(bot, user, {"tried": text, "visibility": "group"})
    await response_to(bot, ADMIN, "digest now")
    await bot.until(lambda: any(p.buttons() for p in bot.fake.in_channel(CHANNEL)))
    await bot.app.drain_outbox()
    await asyncio.sleep(0.2)
    [asking] = [p for p in bot.fake.in_channel(CHANNEL) if p.buttons()]
    assert asking.thread_ts is not None  # in the digest's thread
    return asking


async def click(bot: Bot, user: str, post: Posted, index: int) -> None:
    sent = await bot.driver.click(user, post, index)
    assert sent.status == 200


async def test_theme_buttons_answer_once_and_differ_opens_a_form(bot: Bot) -> None:
    asking = await posted_digest(bot)
    buttons = asking.buttons()
    assert buttons[0]["text"]["text"] == "1. This matches what we see"
    assert buttons[1]["text"]["text"] == "1. We see it differently"
    assert buttons[0]["value"].endswith(".1 agree")

    for expected in ("Noted: theme 1", "Already noted: theme 1"):
        before = len(bot.fake.responses)
        await click(bot, "U03", asking, 0)
        await bot.until(lambda: len(bot.fake.responses) > before, drain=False)  # noqa: B023
        assert str(bot.fake.responses[before]["text"]).startswith(expected)

    before = len(bot.fake.views)
    await click(bot, "U04", asking, 1)
    await bot.until(lambda: len(bot.fake.views) > before, drain=False)
    opened = bot.fake.views[before]
    assert opened.view["title"]["text"] == "We see it differently"
    submitted = await bot.driver.submit("U04", opened, {"text": "Not in the north: <@U01>"})
    body = submitted.json()
    assert body["response_action"] == "update"
    assert "you see theme 1" in str(body["view"]["blocks"][0]["text"]["text"])

    # U03 changes their mind: the modal replaces the agreement.
    before = len(bot.fake.views)
    await click(bot, "U03", asking, 1)
    await bot.until(lambda: len(bot.fake.views) > before, drain=False)
    await bot.driver.submit("U03", bot.fake.views[before], {"text": "Only on Mondays."})

    async with bot.app.deps.db.begin() as session:
        rows = (await session.execute(select(DigestResponse).order_by(DigestResponse.id))).all()
    assert [(r.theme, r.stance, r.text) for (r,) in rows] == [
        (1, "differ", "Only on Mondays."),
        (1, "differ", "Not in the north: <@U01>"),
    ]

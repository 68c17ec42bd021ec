"""A reply typed in a round prompt's DM thread goes through the dispatcher like any command: it
is counted, and a failure is answered with the dispatcher's one line, not silence."""

from __future__ import annotations

from sqlalchemy import update

from bot.store.models import Round
from tests.integrations.slack.conftest import ADMIN, CHANNEL, PEOPLE, Bot
from tests.support.fake_slack import Posted


async def start_round(bot: Bot) -> None:
    await bot.driver.slash(ADMIN, CHANNEL, "round start weekly-reflection for 2d")
    await bot.until(lambda: len(bot.prompt_dms()) == len(PEOPLE))


async def reply_in_thread(bot: Bot, user: str, text: str) -> Posted:
    """Answer the round prompt sent to `user` in its DM thread; returns the bot's answer."""
    prompt = bot.fake.dms_to(user)[0]
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": prompt.channel,
        "user": user,
        "text": text,
        "ts": "1800000000.000200",
        "thread_ts": prompt.ts,
    }
    assert (await bot.driver.event(event, f"Ev{user}")).status == 200

    def answers() -> list[Posted]:
        return [p for p in bot.fake.posts if p.thread_ts == prompt.ts]

    await bot.until(lambda: bool(answers()), drain=False)
    return answers()[0]


def handled(bot: Bot, result: str) -> float:
    value = bot.app.metrics.events.labels("slack", result)._value.get()
    return float(value)


async def test_a_thread_reply_is_counted_like_a_command(bot: Bot) -> None:
    await start_round(bot)
    answer = await reply_in_thread(bot, "U05", "I asked before advising")
    assert "Saved as your answer" in answer.text
    # The round start was one reply; the thread reply is the second.
    assert handled(bot, "reply") == 2.0


async def test_a_thread_reply_that_fails_gets_the_one_line_error(bot: Bot) -> None:
    async def break_the_rounds() -> None:
        async with bot.app.deps.db.begin() as session:
            await session.execute(update(Round).values(prompts=[{"text": "no key"}]))

    await start_round(bot)
    await break_the_rounds()
    answer = await reply_in_thread(bot, "U07", "an answer the bot cannot place")
    assert answer.text.startswith("Something went wrong on our side and nothing was saved.")
    assert "Reference:" in answer.text and "Traceback" not in answer.text

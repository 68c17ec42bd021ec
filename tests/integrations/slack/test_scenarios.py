"""The issue's scenarios, through the real app: the composition root, the Slack adapter in HTTP
mode, signed requests from a SlackDriver, and a FakeSlack Web API that records every call."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.config import load_settings
from bot.store.models import Delivery, Digest, Response
from tests.integrations.slack.conftest import (
    ADMIN,
    CHANNEL,
    PEOPLE,
    SECRET,
    Bot,
    slack_env,
    start_bot,
)
from tests.support.fake_slack import FakeSlack, Posted, SlackDriver

START = "round start weekly-reflection for 2d"


async def start_round(bot: Bot) -> None:
    sent = await bot.driver.slash(ADMIN, CHANNEL, START)
    assert sent.status == 200
    await bot.until(lambda: len(bot.prompt_dms()) == len(PEOPLE))


async def response_to(bot: Bot, user: str, text: str) -> dict[str, object]:
    """Run a slash command and return what the bot answered through the response URL."""
    before = len(bot.fake.responses)
    sent = await bot.driver.slash(user, CHANNEL, text)
    assert sent.status == 200
    await bot.until(lambda: len(bot.fake.responses) > before, drain=False)
    return bot.fake.responses[before]


async def count(bot: Bot, query: object) -> int:
    async with bot.app.deps.db.begin() as session:
        return int(await session.scalar(query) or 0)  # type: ignore[call-overload]


# 1 -------------------------------------------------------------------------------------------


async def test_round_start_reaches_every_member_exactly_once_despite_429s(bot: Bot) -> None:
    bot.fake.ratelimit_dms.update({"U03": 1, "U07": 2, "U19": 1})
    sent = await bot.driver.slash(ADMIN, CHANNEL, START)
    assert sent.status == 200
    assert sent.seconds < 3.0

    await bot.until(lambda: len(bot.prompt_dms()) == len(PEOPLE), within=20)
    await bot.app.drain_outbox()
    await asyncio.sleep(0.2)
    assert bot.prompt_dms() == dict.fromkeys(PEOPLE, 1)
    # Nobody else: no DM was even opened for the bots, the deactivated user or Slackbot.
    assert set(bot.fake.dm_of) == set(PEOPLE)
    limited = [c for c in bot.fake.calls_to("chat.postMessage") if c.status == 429]
    assert len(limited) == 4
    # Each prompt carries an Answer button that runs `answer <round>`.
    buttons = bot.fake.dms_to("U02")[0].buttons()
    assert [(b["text"]["text"], b["value"]) for b in buttons] == [("Answer", "answer 1")]
    # The facilitator's answer went to the channel, through the response URL.
    started = [r for r in bot.fake.responses if "has started" in str(r["text"])]
    assert len(started) == 1
    assert started[0]["response_type"] == "in_channel"
    assert "25 members" in str(started[0]["text"])


# 2 -------------------------------------------------------------------------------------------


async def answer_through_modal(bot: Bot, user: str, values: dict[str, str]) -> dict[str, object]:
    prompt = next(p for p in bot.fake.dms_to(user) if "(round #" in p.text)
    before = len(bot.fake.views)
    clicked = await bot.driver.click(user, prompt)
    assert clicked.status == 200
    await bot.until(lambda: len(bot.fake.views) > before, drain=False)
    opened = bot.fake.views[before]
    assert opened.view["callback_id"] == "cycles_form"
    submitted = await bot.driver.submit(user, opened, values)
    assert submitted.status == 200
    body = submitted.json()
    assert isinstance(body, dict)
    return body


async def test_three_members_answer_in_the_modal_and_one_edits(bot: Bot) -> None:
    await start_round(bot)
    for user in ("U02", "U03", "U04"):
        body = await answer_through_modal(
            bot, user, {"tried": f"{user} tried a walking meeting", "visibility": "group"}
        )
        assert body["response_action"] == "update"
        shown = str(body["view"]["blocks"][0]["text"]["text"])  # type: ignore[index]
        assert shown.startswith("Saved your answers to round #1")

    # The prompt's button now says Edit answers.
    await bot.until(lambda: len(bot.fake.updates) >= 3, drain=False)
    labels = [b["text"]["text"] for b in bot.fake.dms_to("U03")[0].buttons()]
    assert labels == ["Edit answers"]

    # U03 edits: the modal opens with the saved answer, and the change replaces it.
    prompt = bot.fake.dms_to("U03")[0]
    before = len(bot.fake.views)
    await bot.driver.click("U03", prompt)
    await bot.until(lambda: len(bot.fake.views) > before, drain=False)
    opened = bot.fake.views[before]
    tried = next(b for b in opened.view["blocks"] if b.get("block_id") == "tried")
    assert tried["element"]["initial_value"] == "U03 tried a walking meeting"
    assert opened.view["submit"]["text"] == "Update"
    edited = await bot.driver.submit("U03", opened, {"tried": "U03 tried a standing meeting"})
    assert str(edited.json()["view"]["blocks"][0]["text"]["text"]).startswith("Updated")

    texts = await count(bot, select(func.count()).select_from(Response))
    assert texts == 3
    async with bot.app.deps.db.begin() as session:
        stored = list((await session.execute(select(Response.text))).scalars())
    assert "U03 tried a standing meeting" in stored
    assert "U03 tried a walking meeting" not in stored

    status = await response_to(bot, ADMIN, "round status")
    assert status["response_type"] == "ephemeral"
    assert "Answered: 3 of 25 members" in str(status["text"])


async def test_validation_errors_stay_inline_and_the_modal_stays_open(bot: Bot) -> None:
    await start_round(bot)
    body = await answer_through_modal(bot, "U05", {"tried": "", "noticed": "", "next": ""})
    assert body["response_action"] == "errors"
    assert body["errors"] == {"tried": "Answer at least one question."}
    assert await count(bot, select(func.count()).select_from(Response)) == 0


# 3 -------------------------------------------------------------------------------------------


async def test_a_member_who_is_not_a_facilitator_cannot_start_a_round(bot: Bot) -> None:
    answer = await response_to(bot, "U05", START)
    assert answer["response_type"] == "ephemeral"
    assert str(answer["text"]) == "Only a facilitator can use `round start`."
    await asyncio.sleep(0.2)
    await bot.app.drain_outbox()
    for method in ("chat.postMessage", "conversations.open", "conversations.members"):
        assert bot.fake.calls_to(method) == []
    assert await count(bot, select(func.count()).select_from(Delivery)) == 0


async def test_a_configured_facilitator_may_start_one(fake: FakeSlack, tmp_path: Path) -> None:
    env = slack_env(fake, tmp_path, CYCLES_BOT__FACILITATORS="U09")
    app, url = await start_bot(load_settings(path=None, env=env), fake)
    try:
        async with SlackDriver(fake, url, SECRET) as driver:
            assert (await driver.slash("U09", CHANNEL, START)).status == 200
            deadline = time.monotonic() + 10
            while len(fake.dm_of) < len(PEOPLE):
                assert time.monotonic() < deadline
                await app.drain_outbox()
                await asyncio.sleep(0.05)
    finally:
        await app.stop()


# 4 -------------------------------------------------------------------------------------------


async def test_a_retried_event_is_processed_once(bot: Bot) -> None:
    home = {"type": "app_home_opened", "user": "U02", "channel": "DU02", "tab": "home"}
    first = await bot.driver.event(home, "Ev0001")
    again = await bot.driver.event(home, "Ev0001", retry=1)
    assert (first.status, again.status) == (200, 200)
    await bot.until(lambda: len(bot.fake.published) >= 1, drain=False)
    await asyncio.sleep(0.3)
    assert len(bot.fake.published) == 1

    # A reply in the prompt's DM thread is an answer; its retry stores nothing more.
    await start_round(bot)
    prompt = bot.fake.dms_to("U06")[0]
    reply = {
        "type": "message",
        "channel_type": "im",
        "channel": prompt.channel,
        "user": "U06",
        "text": "I tried asking before advising",
        "ts": "1800000000.000100",
        "thread_ts": prompt.ts,
    }
    await bot.driver.event(reply, "Ev0002")
    await bot.driver.event(reply, "Ev0002", retry=1)
    await bot.driver.event(reply, "Ev0002", retry=2)

    def in_thread() -> list[Posted]:
        return [p for p in bot.fake.posts if p.thread_ts == prompt.ts]

    await bot.until(lambda: len(in_thread()) >= 1, drain=False)
    await asyncio.sleep(0.3)
    assert len(in_thread()) == 1
    assert "Saved as your answer" in in_thread()[0].text
    async with bot.app.deps.db.begin() as session:
        stored = list((await session.execute(select(Response.text))).scalars())
    assert stored == ["I tried asking before advising"]


async def test_bad_signature_and_stale_timestamp_get_401(bot: Bot) -> None:
    async with SlackDriver(bot.fake, bot.driver.url.removesuffix("/slack/events"), "wrong") as bad:
        forged = await bad.slash(ADMIN, CHANNEL, START)
    stale = await bot.driver.event(
        {"type": "app_home_opened", "user": "U02", "tab": "home"},
        "Ev0003",
        timestamp=int(time.time()) - 6 * 60,
    )
    assert forged.status == 401
    assert stale.status == 401
    await asyncio.sleep(0.2)
    assert bot.fake.responses == []
    assert bot.fake.published == []
    assert bot.fake.calls_to("conversations.members") == []


# 5 -------------------------------------------------------------------------------------------


async def test_a_restart_after_ten_dms_sends_the_other_fifteen_once(
    fake: FakeSlack, tmp_path: Path
) -> None:
    settings = load_settings(path=None, env=slack_env(fake, tmp_path))
    app, url = await start_bot(settings, fake)
    fake.hold_dms_after = 10
    async with SlackDriver(fake, url, SECRET) as driver:
        assert (await driver.slash(ADMIN, CHANNEL, START)).status == 200
        deadline = time.monotonic() + 10
        while fake.held < 1:  # the background outbox worker sends; the 11th is held
            assert time.monotonic() < deadline, "the fan-out did not start"
            await asyncio.sleep(0.02)
    assert sum(fake.dm_users().values()) == 10

    stopping = asyncio.create_task(app.stop())
    await asyncio.sleep(0.1)
    fake.release()  # the held post fails: Slack never posted it
    await stopping
    first_ten = set(fake.dm_users())
    assert len(first_ten) == 10

    # A new process on the same database, once the stopped one's lease on its rows ran out.
    fake.hold_dms_after = None
    clock = ManualClock(datetime.now(UTC) + timedelta(minutes=2))
    again, _ = await start_bot(settings, fake, clock=clock)
    try:
        deadline = time.monotonic() + 10
        while len(fake.dm_users()) < len(PEOPLE):
            assert time.monotonic() < deadline, fake.dm_users()
            await again.drain_outbox()
            await asyncio.sleep(0.05)
        await again.drain_outbox()
    finally:
        await again.stop()
    assert fake.dm_users() == dict.fromkeys(PEOPLE, 1)


# 6 -------------------------------------------------------------------------------------------


async def test_digest_now_posts_one_parent_and_its_replies_in_the_thread(bot: Bot) -> None:
    await start_round(bot)
    for user, text in (("U02", "Pairing on intake calls"), ("U03", "Asking families first")):
        await answer_through_modal(bot, user, {"tried": text, "visibility": "group"})

    answer = await response_to(bot, ADMIN, "digest now")
    assert "Posting this week's digest" in str(answer["text"])
    await bot.until(lambda: len(bot.fake.in_channel(CHANNEL)) >= 2)
    await bot.app.drain_outbox()
    await asyncio.sleep(0.2)

    posts = bot.fake.in_channel(CHANNEL)
    parents = [p for p in posts if p.thread_ts is None]
    assert len(parents) == 1
    parent = parents[0]
    replies = [p for p in posts if p.thread_ts is not None]
    assert replies
    assert {p.thread_ts for p in replies} == {parent.ts}
    # One reply per section, each opening with the section's title in bold.
    async with bot.app.deps.db.begin() as session:
        content = await session.scalar(select(Digest.content))
    assert content is not None
    titles = [s["title"] for s in content["sections"]]
    assert [p.blocks[0]["text"]["text"].split("\n")[0] for p in replies] == [
        f"*{t}*" for t in titles
    ]
    # The chart went into the same thread.
    assert len(bot.fake.uploads) == 1
    for upload in bot.fake.uploads.values():
        assert (upload["channel"], upload["thread_ts"]) == (CHANNEL, parent.ts)
    # Sending it again is a no-op: the digest goes out once a week.
    again = await response_to(bot, ADMIN, "digest now")
    assert "already posted" in str(again["text"])
    await bot.app.drain_outbox()
    assert len([p for p in bot.fake.in_channel(CHANNEL) if p.thread_ts is None]) == 1

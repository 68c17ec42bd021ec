"""Teams scenarios at the edges: no token, a wrong value on the card, a member who blocked the
bot, a restart in the middle of a fan-out, and a group bridged with Slack."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.config import load_settings
from bot.domain import Actor, ChannelRef, Message, Platform, Reply, Role, Section
from integrations.teams import turns
from tests.integrations.teams.conftest import FACILITATOR, PEOPLE, Bot, start_bot, teams_env
from tests.integrations.teams.test_scenarios import START, answer_by_card, start_round, stored
from tests.support.adapter import RecordingAdapter
from tests.support.fake_connector import TEAM_CHANNEL, FakeConnector, TeamsClient


async def test_without_a_token_a_request_gets_401_when_anonymous_mode_is_off(
    fake: FakeConnector, tmp_path: Path
) -> None:
    env = teams_env(
        tmp_path,
        TEAMS_APP_ID="00000000-0000-0000-0000-000000000001",
        TEAMS_APP_PASSWORD="not-a-real-secret",
        CYCLES_TEAMS__ALLOW_ANONYMOUS="false",
    )
    app, adapter = await start_bot(load_settings(path=None, env=env))
    try:
        async with TeamsClient(fake, f"http://127.0.0.1:{adapter.http_port}") as client:
            assert await client.post(client.in_channel(FACILITATOR, START)) == 401
            forged = await client.post(client.in_channel(FACILITATOR, START), token="forged")
            assert forged == 401
    finally:
        await app.stop()
    assert fake.calls == []  # nothing was handled, nothing was answered


async def test_a_wrong_value_is_shown_on_the_card_and_nothing_typed_is_lost(bot: Bot) -> None:
    assert await bot.say(FACILITATOR, "cycle new") == 202  # the form comes privately
    form = bot.fake.to_person(FACILITATOR)[-1]
    kinds = {i["id"]: i["type"] for i in form.inputs}
    assert kinds["scale"] == "Input.ChoiceSet", kinds
    [submit] = form.actions
    typed = {"name": "Frailty pathway", "question": "Why now?", "scale": "team", "parent": "abc"}
    sent = bot.client.submit(FACILITATOR, form, {**typed, **submit["data"]})
    assert await bot.client.post(sent) == 202
    again = bot.fake.find(form.id)  # the same card, updated in place
    values = {i["id"]: i.get("value") for i in again.inputs}
    assert values == typed
    assert "parent" in again.text.lower() or "number" in again.text.lower(), again.text
    # Fixed and sent again, it is saved.
    fixed = bot.client.submit(FACILITATOR, again, {**typed, "parent": "", **submit["data"]})
    assert await bot.client.post(fixed) == 202
    assert not bot.fake.find(form.id).inputs
    assert "Frailty pathway" in bot.fake.find(form.id).text


async def test_a_member_who_blocked_the_bot_is_listed_as_unreachable(bot: Bot) -> None:
    bot.fake.blocked.add(PEOPLE[4])
    await bot.say(FACILITATOR, START)
    others = [p for p in PEOPLE if p != PEOPLE[4]]
    await bot.until(lambda: set(bot.prompts()) == set(others))
    await bot.app.drain_outbox()
    assert await bot.say(FACILITATOR, "round status") == 202
    status = bot.fake.to_person(FACILITATOR)[-1].text
    assert "1 failed" in status, status
    assert "unreachable on Teams" in status, status


async def test_a_restart_mid_fan_out_sends_the_rest_once(
    fake: FakeConnector, tmp_path: Path
) -> None:
    settings = load_settings(path=None, env=teams_env(tmp_path))
    app, adapter = await start_bot(settings)
    fake.hold_after = 10
    async with TeamsClient(fake, f"http://127.0.0.1:{adapter.http_port}") as client:
        assert await client.post(client.in_channel(FACILITATOR, START)) == 202
        deadline = time.monotonic() + 10
        while fake.held < 1:  # the background outbox worker sends; the 11th is held
            assert time.monotonic() < deadline, "the fan-out did not start"
            await asyncio.sleep(0.02)
    stopping = asyncio.create_task(app.stop())
    await asyncio.sleep(0.1)
    fake.release()  # the held send fails: Teams never posted it
    await stopping
    first = {p.user for p in fake.posts if p.user and "(round #" in p.text}
    assert len(first) == 10

    fake.hold_after = None
    clock = ManualClock(datetime.now(UTC) + timedelta(minutes=2))
    again, _ = await start_bot(settings, clock=clock)
    try:
        deadline = time.monotonic() + 10
        while len({p.user for p in fake.posts if "(round #" in p.text}) < len(PEOPLE):
            assert time.monotonic() < deadline
            await again.drain_outbox()
            await asyncio.sleep(0.05)
        await again.drain_outbox()
    finally:
        await again.stop()
    prompts = [p.user for p in fake.posts if p.user and "(round #" in p.text]
    assert sorted(prompts) == sorted(PEOPLE)  # each exactly once


async def test_a_group_bridged_with_slack_gets_one_digest_on_each_side(bot: Bot) -> None:
    slack = RecordingAdapter(platform=Platform.SLACK)
    bot.app.add_adapter(slack)
    await start_round(bot)
    await answer_by_card(bot, PEOPLE[1], {"tried": "Pairing on intake calls"})
    assert await bot.say(FACILITATOR, "group link") == 202
    offer = bot.fake.to_person(FACILITATOR)[-1].text
    match = re.search(r"group link ([A-Z0-9]{8})", offer)
    assert match, offer
    slack_channel = ChannelRef(Platform.SLACK, "T1", "C1")
    ana = Actor(Platform.SLACK, "T1", "U1", "Ana", platform_role=Role.FACILITATOR)
    joined = await bot.app.dispatcher.handle(ana, slack_channel, f"group link {match.group(1)}")
    assert isinstance(joined, Reply) and "now part of the learning group" in joined.message.text

    assert await bot.say(FACILITATOR, "digest now") == 202
    await bot.until(lambda: any(s.to == slack_channel for s in slack.sent))
    await bot.app.drain_outbox()
    digests = [
        p for p in bot.fake.in_channel(TEAM_CHANNEL) if p.thread_root == p.id and p.user is None
    ]
    assert len(digests) == 1  # one post in the Teams channel, its sections in the thread
    assert [p for p in bot.fake.posts if p.conversation == digests[0].conversation][1:]
    assert len([s for s in slack.sent if s.to == slack_channel]) == 1


async def test_a_slow_answer_follows_up_to_the_same_places(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The core takes longer than Teams waits: the turn ends at once, the answers follow.
    monkeypatch.setattr(turns, "BUDGET_SECONDS", 0.0)
    assert await bot.say(PEOPLE[1], START) == 202
    await bot.until(lambda: bool(bot.fake.to_person(PEOPLE[1])), drain=False)
    [refusal] = bot.fake.to_person(PEOPLE[1])
    assert refusal.text == "Only a facilitator can use `round start`."

    assert await bot.say(FACILITATOR, START) == 202
    await bot.until(lambda: len(bot.prompts()) == len(PEOPLE))
    started = [p for p in bot.fake.posts if "has started" in p.text]
    assert len(started) == 1 and started[0].user is None  # in the channel, in the thread

    prompt = bot.fake.to_person(PEOPLE[2])[0]
    await bot.client.post(bot.client.submit(PEOPLE[2], prompt, prompt.actions[0]["data"]))
    await bot.until(lambda: bool(bot.fake.find(prompt.id).inputs), drain=False)
    form = bot.fake.find(prompt.id)
    data = {"tried": "A walking meeting", **form.actions[0]["data"]}
    await bot.client.post(bot.client.submit(PEOPLE[2], form, data))
    await bot.until(lambda: "Saved your answers" in bot.fake.find(prompt.id).text, drain=False)


async def test_a_personal_chat_teams_no_longer_has_is_opened_again(bot: Bot) -> None:
    # Remembered from an earlier install; Teams answers 404 for it now.
    await bot.adapter.directory.learn("tenant-1", bot.fake.url, "28:learning-cycles")
    await bot.adapter.directory.remember_chat("tenant-1", PEOPLE[5], "a:gone")
    await start_round(bot)
    assert bot.prompts()[PEOPLE[5]] == 1
    assert bot.fake.opened[PEOPLE[5]] == 1


async def test_an_action_execute_invoke_saves_and_answers_with_the_new_card(bot: Bot) -> None:
    await start_round(bot)
    prompt = bot.fake.to_person(PEOPLE[1])[0]
    invoke = bot.client.submit(PEOPLE[1], prompt, {})
    invoke.update(
        type="invoke",
        name="adaptiveCard/action",
        value={
            "action": {
                "type": "Action.Execute",
                "verb": "save",
                "data": {"cycles_form": "answer 1", "tried": "Shadowing a colleague"},
            },
            "trigger": "manual",
        },
    )
    status, body = await bot.client.invoke(invoke)
    assert status == 200
    assert body["statusCode"] == 200 and body["type"].endswith("card.adaptive")
    shown = "\n".join(str(e.get("text", "")) for e in body["value"]["body"])
    assert shown.startswith("Saved your answers to round #1"), shown
    assert await stored(bot) == ["Shadowing a colleague"]


async def test_a_reply_to_the_prompt_card_answers_its_first_open_question(bot: Bot) -> None:
    await start_round(bot)
    prompt = bot.fake.to_person(PEOPLE[3])[0]
    reply = bot.client.personal(PEOPLE[3], "We tried a walking meeting")
    reply["replyToId"] = prompt.id
    assert await bot.client.post(reply) == 202
    assert await stored(bot) == ["We tried a walking meeting"]
    # Without the reply, the same words are a command, and an unknown one.
    assert await bot.say_personally(PEOPLE[4], "We tried a walking meeting") == 202
    assert await stored(bot) == ["We tried a walking meeting"]


async def test_in_a_group_chat_sections_follow_the_message(bot: Bot) -> None:
    chat = "19:abc@thread.v2"  # a group chat: no threads there
    bot.fake.add_team(chat, PEOPLE[:3])
    await bot.adapter.directory.learn("tenant-1", bot.fake.url, "28:learning-cycles")
    to = ChannelRef(Platform.TEAMS, "tenant-1", chat)
    message = Message("Round #1 is closed.", sections=(Section("Theme", "What we saw"),))
    sent = await bot.adapter.send(to, message, key="round:1:summary")
    posted = [p for p in bot.fake.posts if p.conversation == chat]
    assert [p.text for p in posted] == ["Round #1 is closed.", "Theme\nWhat we saw"]
    assert sent == f"{chat}|{posted[0].id}"
    assert not [c for c in bot.fake.calls_to("POST", "/v3/conversations")]

"""The adapter's own behaviour through the real app: modes and start-up checks, forms as modals,
the Home tab, DMs as a command line, stopping, and Socket Mode."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import build_app
from bot.config import load_settings
from bot.errors import ConfigError
from integrations.common.acks_first import AcksFirst
from integrations.slack import listeners
from integrations.slack.adapter import SlackAdapter, resolve_mode
from tests.integrations.slack.conftest import ADMIN, CHANNEL, SECRET, Bot, slack_env
from tests.support.fake_slack import FakeSlack

EXPERIMENT = (
    'experiment new title="Ask first" hypothesis="Asking first builds trust" '
    'try="Ask before advising" expect="Fewer repeat visits"'
)


def test_the_mode_follows_the_tokens(fake: FakeSlack, tmp_path: Path) -> None:
    def settings(**env: str) -> Any:
        base = slack_env(fake, tmp_path)
        base.pop("CYCLES_SLACK__MODE")
        return load_settings(path=None, env={**base, **env}).slack

    assert resolve_mode(settings()) == "http"
    assert resolve_mode(settings(SLACK_APP_TOKEN="xapp-1")) == "socket"
    assert resolve_mode(settings(SLACK_APP_TOKEN="xapp-1", CYCLES_SLACK__MODE="http")) == "http"
    with pytest.raises(ConfigError, match="needs SLACK_APP_TOKEN"):
        resolve_mode(settings(CYCLES_SLACK__MODE="socket"))
    no_secret = {**slack_env(fake, tmp_path), "SLACK_SIGNING_SECRET": ""}
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set"):
        resolve_mode(load_settings(path=None, env=no_secret).slack)


async def test_a_refused_token_stops_the_start_with_one_line(
    fake: FakeSlack, tmp_path: Path
) -> None:
    env = {**slack_env(fake, tmp_path), "SLACK_BOT_TOKEN": "xoxb-wrong-secret-value"}
    app = await build_app(load_settings(path=None, env=env), with_scheduler=False)
    app.add_adapter(SlackAdapter(app.port))
    try:
        with pytest.raises(ConfigError) as caught:
            await app.start()
    finally:
        await app.stop()
    message = str(caught.value)
    assert "SLACK_BOT_TOKEN was refused (invalid_auth)" in message
    assert "xoxb-wrong" not in message
    assert "\n" not in message


async def test_health_and_refusing_new_work_while_stopping(bot: Bot) -> None:
    assert bot.adapter.http is not None
    base = bot.driver.url.removesuffix("/slack/events")
    async with aiohttp.ClientSession() as session:
        async with session.get(base + "/healthz") as ok:
            assert ok.status == 200
        bot.adapter.http.refuse()
        async with session.get(base + "/healthz") as stopping:
            assert stopping.status == 503
    refused = await bot.driver.slash(ADMIN, CHANNEL, "help")
    assert refused.status == 503


async def test_a_form_opens_as_a_modal_and_its_result_is_posted(bot: Bot) -> None:
    sent = await bot.driver.slash(ADMIN, CHANNEL, "cycle new")
    assert sent.status == 200
    await bot.until(lambda: len(bot.fake.views) == 1, drain=False)
    opened = bot.fake.views[0]
    names = [b["block_id"] for b in opened.view["blocks"] if b["type"] == "input"]
    assert names == ["name", "question", "scale", "parent"]
    done = await bot.driver.submit(
        ADMIN, opened, {"name": "Frailty pathway", "question": "What helps people stay home?"}
    )
    body = done.json()
    assert body["response_action"] == "update"
    await bot.until(lambda: len(bot.fake.in_channel(CHANNEL)) == 1, drain=False)
    assert "Frailty pathway" in bot.fake.in_channel(CHANNEL)[0].text
    # A second press of the same submit changes nothing (the view was already handled).
    assert bot.fake.responses == []


async def test_an_expired_trigger_leaves_a_button_that_opens_the_form(bot: Bot) -> None:
    before = len(bot.fake.responses)
    await bot.driver.slash(ADMIN, CHANNEL, "cycle new name=Pilot", trigger_id="expired.1")
    await bot.until(lambda: len(bot.fake.responses) > before, drain=False)
    fallback = bot.fake.responses[before]
    assert fallback["response_type"] == "ephemeral"
    [button] = [
        e
        for b in fallback["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]  # type: ignore[attr-defined]
    ]
    assert button["value"] == "cycle new scale=team name=Pilot"  # the initial values too
    payload = {
        "type": "block_actions",
        "team": {"id": bot.fake.team},
        "user": {"id": ADMIN, "team_id": bot.fake.team},
        "trigger_id": bot.fake.new_trigger(ADMIN),
        "response_url": bot.fake.response_url(),
        "container": {"type": "message", "message_ts": "1.2", "channel_id": CHANNEL},
        "channel": {"id": CHANNEL},
        "actions": [{"action_id": button["action_id"], "value": button["value"]}],
    }
    await bot.driver.interactive(payload)
    await bot.until(lambda: len(bot.fake.views) == 1, drain=False)
    name = next(b for b in bot.fake.views[0].view["blocks"] if b.get("block_id") == "name")
    assert name["element"]["initial_value"] == "Pilot"


async def test_check_in_errors_show_on_the_field(bot: Bot) -> None:
    before = len(bot.fake.responses)
    await bot.driver.slash("U02", CHANNEL, EXPERIMENT)
    await bot.until(lambda: len(bot.fake.responses) > before, drain=False)
    await bot.driver.slash("U02", CHANNEL, "checkin 1")
    await bot.until(lambda: len(bot.fake.views) == 1, drain=False)
    opened = bot.fake.views[0]
    surprise = next(b for b in opened.view["blocks"] if b.get("block_id") == "surprise")
    assert surprise["element"]["type"] == "number_input"
    done = await bot.driver.submit("U02", opened, {"happened": "We ran it", "surprise": "150"})
    body = done.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"surprise"}
    assert "100" in body["errors"]["surprise"]


async def test_the_home_tab_shows_my_prompts_and_experiments(bot: Bot) -> None:
    await bot.driver.slash(ADMIN, CHANNEL, "round start weekly-reflection for 2d")
    await bot.until(lambda: len(bot.fake.dm_of) == 25)
    await bot.driver.slash("U02", CHANNEL, EXPERIMENT)
    await bot.until(
        lambda: any("Experiment #1" in str(r["text"]) for r in bot.fake.responses), drain=False
    )

    home = {"type": "app_home_opened", "user": "U02", "channel": "DU02", "tab": "home"}
    await bot.driver.event(home, "EvHome1")
    await bot.until(lambda: len(bot.fake.published) == 1, drain=False)
    published = bot.fake.published[0]
    assert published["user_id"] == "U02"
    blocks = published["view"]["blocks"]
    headers = [b["text"]["text"] for b in blocks if b["type"] == "header"]
    assert headers == ["Learning Cycles", "Your open prompts", "Your experiments"]
    buttons = [b["accessory"] for b in blocks if "accessory" in b]
    assert [(b["text"]["text"], b["value"]) for b in buttons] == [
        ("Answer", "answer 1"),
        ("Check in", "checkin 1"),
    ]
    # Answer from the Home tab opens the round's modal.
    payload = {
        "type": "block_actions",
        "team": {"id": bot.fake.team},
        "user": {"id": "U02", "team_id": bot.fake.team},
        "trigger_id": bot.fake.new_trigger("U02"),
        "container": {"type": "view", "view_id": "VHOME"},
        "view": {"id": "VHOME", "type": "home"},
        "actions": [{"action_id": buttons[0]["action_id"], "value": "answer 1"}],
    }
    await bot.driver.interactive(payload)
    await bot.until(lambda: len(bot.fake.views) == 1, drain=False)
    assert bot.fake.views[0].view["title"]["text"].startswith("Weekly reflection")


async def test_a_message_to_the_app_is_a_command(bot: Bot) -> None:
    bot.fake.dm_of["U04"] = "DU04"
    event = {
        "type": "message",
        "channel_type": "im",
        "channel": "DU04",
        "user": "U04",
        "text": "help",
        "ts": "1800000000.000200",
    }
    await bot.driver.event(event, "EvDm1")
    await bot.until(lambda: len(bot.fake.dms_to("U04")) == 1, drain=False)
    assert "Learning Cycles commands" in bot.fake.dms_to("U04")[0].text
    assert bot.fake.calls_to("conversations.open") == []  # the event told us the DM


async def test_socket_mode_acknowledges_and_answers(fake: FakeSlack, tmp_path: Path) -> None:
    env = {**slack_env(fake, tmp_path), "SLACK_APP_TOKEN": fake.app_token}
    env["CYCLES_SLACK__MODE"] = "socket"
    settings = load_settings(path=None, env=env)
    app = await build_app(settings, with_scheduler=False)
    adapter = SlackAdapter(app.port)
    app.add_adapter(adapter)
    await app.start()
    try:
        assert adapter.socket is not None and adapter.http is None
        command = {
            "team_id": fake.team,
            "channel_id": CHANNEL,
            "user_id": ADMIN,
            "command": "/cycles",
            "text": "help",
            "response_url": fake.response_url(),
            "trigger_id": fake.new_trigger(ADMIN),
        }
        started = time.monotonic()
        ack = await fake.envelope("slash_commands", command)
        assert time.monotonic() - started < 3.0
        deadline = time.monotonic() + 5
        # Quick, with nothing else under way, the answer comes back in the acknowledgement;
        # on a machine too busy for that, through the response URL.
        while not ack.get("payload") and not fake.responses:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        answer = ack.get("payload") or fake.responses[0]
        assert answer["response_type"] == "ephemeral"
        assert "Learning Cycles commands" in str(answer["text"])

        command["text"] = "cycle new"
        command["trigger_id"] = fake.new_trigger(ADMIN)
        await fake.envelope("slash_commands", command)
        while not fake.views:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        opened = fake.views[0]
        state = {
            "name": {"value": {"type": "plain_text_input", "value": "   "}},
            "question": {"value": {"type": "plain_text_input", "value": "q?"}},
            "scale": {"value": {"type": "static_select", "selected_option": None}},
            "parent": {"value": {"type": "plain_text_input", "value": "x"}},
        }
        submission = {
            "type": "view_submission",
            "team": {"id": fake.team},
            "user": {"id": ADMIN, "team_id": fake.team},
            "view": {**opened.view, "id": opened.id, "hash": "h", "state": {"values": state}},
        }
        ack = await fake.envelope("interactive", submission)
        assert ack["payload"]["response_action"] == "errors"
        required = "This is required."
        assert ack["payload"]["errors"] == {"name": required, "scale": required}
    finally:
        await app.stop()
    assert adapter.socket is None


def test_secret_is_never_in_the_settings_repr(fake: FakeSlack, tmp_path: Path) -> None:
    settings = load_settings(path=None, env=slack_env(fake, tmp_path))
    assert SECRET not in repr(settings)
    assert fake.bot_token not in repr(settings)


async def test_the_events_url_answers_slacks_challenge(bot: Bot) -> None:
    body = json.dumps(
        {"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"}
    )
    sent = await bot.driver.post(body, "application/json")
    assert sent.status == 200
    assert sent.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV"}


async def test_stop_waits_for_work_already_acknowledged(bot: Bot) -> None:
    gate = asyncio.Event()
    real = bot.adapter.directory.actor

    async def slow_actor(team: str, user_id: str, name: str = "") -> Any:
        await gate.wait()
        return await real(team, user_id, name)

    bot.adapter.directory.actor = slow_actor  # type: ignore[method-assign,assignment]
    sent = await bot.driver.slash(ADMIN, CHANNEL, "help")
    assert sent.status == 200  # acknowledged at once; the answer is still being worked on
    stopping = asyncio.create_task(bot.adapter.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()
    gate.set()
    await stopping
    assert len(bot.fake.responses) == 1
    assert "Learning Cycles commands" in str(bot.fake.responses[0]["text"])


async def test_a_busy_bot_acknowledges_a_burst_before_working_on_it(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Busy, the bot acknowledges every command of a burst before it works on any: the work
    of the first waits for a gap in the requests (here 1 s), then every answer arrives."""
    monkeypatch.setattr(listeners, "ANSWER_IN_ACK_WHEN_AT_MOST", 0)
    bot.adapter.interactions.acks_first = AcksFirst(gap=1.0, longest=30)
    people = ["U05", "U06", "U07", "U08"]
    for user in people:  # back to back, closer than the gap
        sent = await bot.driver.slash(user, CHANNEL, "help")
        assert sent.status == 200 and not sent.body  # acknowledged, with nothing in it
        await asyncio.sleep(0.1)
    assert bot.fake.responses == []  # nothing worked on while the requests kept coming
    await bot.until(lambda: len(bot.fake.responses) == len(people))
    assert all("Learning Cycles commands" in str(r["text"]) for r in bot.fake.responses)


async def test_an_answer_whose_connection_dropped_is_posted_again_once(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(listeners, "ANSWER_IN_ACK_WHEN_AT_MOST", -1)  # by response URL
    bot.fake.respond_drops = 1
    sent = await bot.driver.slash("U05", CHANNEL, "help")
    assert sent.status == 200 and not sent.body
    await bot.until(lambda: len(bot.fake.responses) == 1)
    await asyncio.sleep(0.6)  # past the retry's wait: nothing arrives twice
    assert len(bot.fake.responses) == 1
    assert "Learning Cycles commands" in str(bot.fake.responses[0]["text"])
    assert bot.fake.respond_drops == 0


async def test_a_refused_response_url_still_answers_the_person_by_dm(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot.fake.respond_status = 404  # the response URL expired before the answer was ready
    people = ["U05", "U06", "U07"]
    # Sent together to a bot busy past one at a time, so at most the first is answered in its
    # acknowledgement; the others through their response URLs, which Slack refuses.
    monkeypatch.setattr(listeners, "ANSWER_IN_ACK_WHEN_AT_MOST", 1)
    await asyncio.gather(*(bot.driver.slash(user, CHANNEL, "help") for user in people))

    def in_acks() -> int:
        return sum(r["url"] == "ack" for r in bot.fake.responses)

    await bot.until(lambda: in_acks() + sum(bool(bot.fake.dms_to(u)) for u in people) == 3)
    by_dm = [user for user in people if bot.fake.dms_to(user)]
    assert by_dm and all("round" in bot.fake.dms_to(user)[0].text for user in by_dm)
    assert all(r["url"] == "ack" for r in bot.fake.responses)  # none went through the URL

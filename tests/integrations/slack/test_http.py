"""HTTP mode at its edge: what reaches /slack/events unsigned, malformed or replayed gets a 4xx
or a short answer, never a 500 or a traceback in the log, and a replayed command runs once."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
import urllib.parse

import aiohttp
import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import text

from integrations.slack import listeners
from tests.integrations.slack.conftest import ADMIN, CHANNEL, SECRET, Bot

FORM = "application/x-www-form-urlencoded"


def no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        assert record.exc_info is None, record.getMessage()
        assert "Traceback" not in record.getMessage()
    assert "Traceback" not in caplog.text


async def test_an_unsigned_request_with_a_bad_timestamp_is_401(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = urllib.parse.urlencode({"command": "/cycles", "text": "help"})
    async with aiohttp.ClientSession() as session:
        for headers in (
            {"X-Slack-Request-Timestamp": "soon", "X-Slack-Signature": "v0=abc"},
            {"X-Slack-Request-Timestamp": "", "X-Slack-Signature": ""},
            {"X-Slack-Request-Timestamp": "1e3"},
            {"X-Slack-Request-Timestamp": "9" * 5000, "X-Slack-Signature": "v0=abc"},
            {"X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0=abc"},
            {},
        ):
            async with session.post(
                bot.driver.url, data=body, headers={"Content-Type": FORM, **headers}
            ) as response:
                assert response.status == 401, headers
    assert bot.fake.responses == []
    no_traceback(caplog)


async def test_an_old_signature_is_401(bot: Bot) -> None:
    body = urllib.parse.urlencode({"command": "/cycles", "text": "help"})
    sent = await bot.driver.post(body, FORM, timestamp=int(time.time()) - 3600)
    assert sent.status == 401


MALFORMED = [
    ("not json", "application/json"),
    ("[1, 2, 3]", "application/json"),
    ('"just a string"', "application/json"),
    ('{"type": "event_callback", "event": "not an object"}', "application/json"),
    ('{"type": "event_callback", "event": {"type": "message"}, "team_id": 7}', "application/json"),
    ("payload=not-json", FORM),
    ("payload=%5B1%2C2%5D", FORM),
    ("payload=" + urllib.parse.quote('{"type": "block_actions"}'), FORM),
    ("payload=" + urllib.parse.quote('{"type": "block_actions", "actions": "x"}'), FORM),
    (
        "payload="
        + urllib.parse.quote('{"type": "block_actions", "actions": [{"action_id": "cycles:0"}]}'),
        FORM,
    ),
    (
        "payload="
        + urllib.parse.quote(
            json.dumps(
                {
                    "type": "block_actions",
                    "user": "U01",
                    "team": "T1",
                    "container": [],
                    "actions": [{"action_id": "cycles:0", "value": 5}],
                }
            )
        ),
        FORM,
    ),
    (
        "payload="
        + urllib.parse.quote(
            json.dumps(
                {
                    "type": "view_submission",
                    "view": {"callback_id": "cycles_form", "private_metadata": "[]", "state": 3},
                }
            )
        ),
        FORM,
    ),
    ("payload=" + urllib.parse.quote('{"type": "view_submission", "view": 3}'), FORM),
    ("text=help&user_id=U01", FORM),
    ("command=%2Fcycles&text=help", FORM),
    ("command=%2Fcycles&text=help&user_id=U01&channel_id=C1&team_id=T1", FORM),
    ("command=%2Fcycles&command=%2Fother&text=%ZZ%", FORM),
    ("%%%&&&===", FORM),
    ("\x00\x01binary", "application/octet-stream"),
    ("", FORM),
    ("", "application/json"),
]


async def test_a_signature_is_checked_once_before_bolt(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server checks every signature before bolt sees the request; bolt's own check of the
    same bytes would be the same work again."""
    checked: list[bytes] = []
    real = SignatureVerifier.is_valid

    def counting(self: SignatureVerifier, body: str | bytes, *args: object) -> bool:
        checked.append(body if isinstance(body, bytes) else body.encode())
        return real(self, body, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(SignatureVerifier, "is_valid", counting)
    sent = await bot.driver.slash(ADMIN, CHANNEL, "help")
    assert sent.status == 200
    assert checked == []


@pytest.mark.parametrize(("body", "content_type"), MALFORMED)
async def test_a_signed_malformed_request_is_never_a_500(
    bot: Bot, caplog: pytest.LogCaptureFixture, body: str, content_type: str
) -> None:
    caplog.set_level(logging.DEBUG)
    sent = await bot.driver.post(body, content_type)
    assert sent.status < 500, (sent.status, sent.body)
    if sent.status >= 400:
        assert len(sent.body) < 200
    await bot.app.drain_outbox()
    no_traceback(caplog)


async def test_a_signed_body_that_is_not_utf8_is_400(
    bot: Bot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    raw = b"command=%2Fcycles&text=\xff\xfe"
    stamp = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + stamp.encode() + b":" + raw, hashlib.sha256)
    headers = {"X-Slack-Request-Timestamp": stamp, "X-Slack-Signature": "v0=" + digest.hexdigest()}
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            bot.driver.url, data=raw, headers={"Content-Type": FORM, **headers}
        ) as response,
    ):
        assert response.status == 400
    no_traceback(caplog)


async def test_a_command_that_says_payload_is_still_a_command(bot: Bot) -> None:
    sent = await bot.driver.slash(ADMIN, CHANNEL, "help payload")
    assert sent.status == 200
    await bot.until(lambda: len(bot.fake.responses) == 1, drain=False)
    assert "payload" in str(bot.fake.responses[0]["text"])  # the text reached the command


async def test_a_replayed_slash_command_runs_once(bot: Bot) -> None:
    form = {
        "team_id": bot.fake.team,
        "channel_id": CHANNEL,
        "user_id": ADMIN,
        "user_name": "admin",
        "command": "/cycles",
        "text": "cycle new name=Replayed question=Why? scale=team",
        "response_url": bot.fake.response_url(),
        "trigger_id": bot.fake.new_trigger(ADMIN),
    }
    body = urllib.parse.urlencode(form)
    stamp = int(time.time())
    first = await bot.driver.post(body, FORM, timestamp=stamp)
    assert first.status == 200
    bot.driver.shown_from_ack(first, form["response_url"])
    await bot.until(lambda: len(bot.fake.views) + len(bot.fake.responses) >= 1, drain=False)
    again = await bot.driver.post(body, FORM, timestamp=stamp)  # the same bytes, same signature
    assert again.status == 200
    await bot.app.drain_outbox()
    await bot.until(lambda: True)
    # One modal opened (or one answer), not two.
    assert len(bot.fake.views) + len(bot.fake.responses) == 1


async def test_a_replayed_check_in_is_saved_once_and_claims_nothing(bot: Bot) -> None:
    """A check-in is keyed by its trigger id: a repeated delivery finds it, so the command
    needs no claim of its own (one write less for the commonest command), and shows nothing."""
    made = await bot.driver.slash(
        ADMIN, CHANNEL, "experiment new title=Walks hypothesis=H try=T expect=E"
    )
    assert made.status == 200
    await bot.until(lambda: bot.fake.responses or made.body, drain=False)
    trigger = bot.fake.new_trigger(ADMIN)
    form = {
        "team_id": bot.fake.team,
        "channel_id": CHANNEL,
        "user_id": ADMIN,
        "command": "/cycles",
        "text": 'checkin 1 happened="A walk" surprise=40 confidence=60',
        "response_url": bot.fake.response_url(),
        "trigger_id": trigger,
    }
    body = urllib.parse.urlencode(form)
    stamp = int(time.time())
    answers = len(bot.fake.responses)
    first = await bot.driver.post(body, FORM, timestamp=stamp)
    bot.driver.shown_from_ack(first, form["response_url"])
    await bot.until(lambda: len(bot.fake.responses) > answers, drain=False)
    assert str(bot.fake.responses[-1]["text"]).startswith("Saved check-in #1")
    again = await bot.driver.post(body, FORM, timestamp=stamp)  # the same bytes again
    bot.driver.shown_from_ack(again, "")
    assert (await bot.driver.slash(ADMIN, CHANNEL, "help")).status == 200  # a fresh one
    await bot.until(lambda: len(bot.fake.responses) >= answers + 2, drain=False)
    assert len(bot.fake.responses) == answers + 2  # the check-in's and help's, nothing more
    async with bot.app.deps.db.begin() as session:
        stored = await session.scalar(text("SELECT count(*) FROM checkins"))
        claims = await session.scalar(
            text("SELECT count(*) FROM processed_events WHERE event_id LIKE :trigger"),
            {"trigger": f"%{trigger}%"},
        )
    assert (stored, claims) == (1, 0)


async def test_a_replayed_help_answers_once(bot: Bot) -> None:
    body = urllib.parse.urlencode(
        {
            "team_id": bot.fake.team,
            "channel_id": CHANNEL,
            "user_id": ADMIN,
            "command": "/cycles",
            "text": "help",
            "response_url": bot.fake.response_url(),
            "trigger_id": bot.fake.new_trigger(ADMIN),
        }
    )
    stamp = int(time.time())
    first = await bot.driver.post(body, FORM, timestamp=stamp)
    assert first.status == 200
    bot.driver.shown_from_ack(first, "")
    await bot.until(lambda: len(bot.fake.responses) == 1, drain=False)
    again = await bot.driver.post(body, FORM, timestamp=stamp)
    assert again.status == 200
    bot.driver.shown_from_ack(again, "")  # a replay shows nothing, in the ack or after
    # A fresh command afterwards is answered: waiting for it shows the replay was not.
    assert (await bot.driver.slash(ADMIN, CHANNEL, "help")).status == 200
    await bot.until(lambda: len(bot.fake.responses) >= 2, drain=False)
    assert len(bot.fake.responses) == 2


async def test_a_command_the_database_cannot_record_says_not_saved(bot: Bot) -> None:
    """The replay claim is the first write a command makes: when the database refuses it, the
    person is told nothing was saved, not that Slack was at fault."""
    async with bot.app.deps.db.begin() as session:
        await session.execute(text("DROP TABLE processed_events"))
    sent = await bot.driver.slash(ADMIN, CHANNEL, "experiment new title=Walks")
    assert sent.status == 200
    await bot.until(lambda: len(bot.fake.responses) == 1, drain=False)
    said = str(bot.fake.responses[0]["text"])
    assert said.startswith("Not saved"), said
    assert "Slack" not in said


async def test_a_quick_answer_comes_back_in_the_acknowledgement(
    bot: Bot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Quick" on any machine: a loaded one may take longer than the production budget.
    monkeypatch.setattr(listeners, "ANSWER_IN_ACK_SECONDS", 2.5)
    sent = await bot.driver.slash(ADMIN, CHANNEL, "help")
    assert sent.status == 200
    body = sent.json()
    assert body["response_type"] == "ephemeral"
    assert "Learning Cycles commands" in body["text"]
    await asyncio.sleep(0.2)
    assert [r["url"] for r in bot.fake.responses] == ["ack"]  # no second answer by URL


async def test_a_form_is_opened_after_the_acknowledgement(bot: Bot) -> None:
    sent = await bot.driver.slash(ADMIN, CHANNEL, "cycle new")
    assert sent.status == 200 and not sent.body  # a modal cannot be an ack's body
    await bot.until(lambda: len(bot.fake.views) == 1, drain=False)

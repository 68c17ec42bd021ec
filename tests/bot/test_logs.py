from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
from sqlalchemy.exc import IntegrityError

from bot.logs import JsonFormatter, RedactTokens, log_failure, setup_logging


@pytest.fixture
def restore_root() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def capture(fmt: str) -> tuple[logging.Logger, io.StringIO]:
    setup_logging("INFO", fmt)
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    return logging.getLogger("bot.test"), stream


def test_text_by_default_json_on_request_tokens_masked(restore_root: None) -> None:
    log, stream = capture("text")
    log.info("sent with xoxb-1234-abcdef")
    line = stream.getvalue()
    assert "INFO bot.test: sent with <redacted>" in line
    assert "xoxb" not in line

    log, stream = capture("json")
    log.warning("token %s", "sk-abcdefghijklmnop")
    data = json.loads(stream.getvalue())
    assert (data["level"], data["logger"], data["message"]) == (
        "WARNING",
        "bot.test",
        "token <redacted>",
    )
    assert isinstance(logging.getLogger().handlers[0].formatter, JsonFormatter)
    assert any(isinstance(f, RedactTokens) for f in logging.getLogger().handlers[0].filters)


def test_a_failure_is_logged_without_its_message(restore_root: None) -> None:
    log, stream = capture("text")
    params = {"happened": "CANARY private text"}  # what a statement's parameters can hold
    try:
        raise IntegrityError("INSERT INTO checkins", params, None)
    except IntegrityError as exc:
        log_failure(log, "scheduled job digest:1 failed", exc)
    out = stream.getvalue()
    assert "scheduled job digest:1 failed: IntegrityError" in out
    assert "test_logs.py" in out  # where it happened
    assert "CANARY" not in out


def test_debug_is_for_the_bot_only_and_parameters_are_masked(restore_root: None) -> None:
    setup_logging("DEBUG", "text")
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    handler.setStream(stream)
    saved = {n: logging.getLogger(n).level for n in ("aiosqlite", "slack_sdk", "somelib")}
    try:
        logging.getLogger("bot.digests").debug("digest %s built", 4)
        logging.getLogger("integrations.slack").debug("event %s", "E1")
        for name in ("aiosqlite", "slack_sdk", "somelib"):
            logging.getLogger(name).debug("body CANARY-1")
        # A library that set its own level still cannot write DEBUG records through the bot's
        # handler.
        logging.getLogger("somelib").setLevel(logging.DEBUG)
        logging.getLogger("somelib").debug("body CANARY-2")
        logging.getLogger("sqlalchemy.engine").warning(
            "INSERT INTO checkins (happened) VALUES (?)\n[parameters: ('CANARY-3',)]"
        )
    finally:
        for name, level in saved.items():
            logging.getLogger(name).setLevel(level)
    out = stream.getvalue()
    assert "digest 4 built" in out and "event E1" in out
    assert "INSERT INTO checkins" in out and "[parameters hidden]" in out
    assert "CANARY" not in out

"""Logging: human-readable by default, JSON lines with one option. Never a token or entry text:
code logs ids and counts only, and this filter masks anything that looks like a token."""

from __future__ import annotations

import json
import logging
import re
import sys

_TOKEN = re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk-[A-Za-z0-9_-]{8,})")


# Libraries whose INFO lines are routine (APScheduler: "Running job", "executed successfully").
CHATTY_LIBRARIES = ("apscheduler",)


class RedactTokens(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _TOKEN.search(message):
            record.msg, record.args = _TOKEN.sub("<redacted>", message), None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data)


def setup_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactTokens())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Client libraries log request bodies at DEBUG, and request bodies carry entry text.
    for noisy in ("openai", "httpx", "httpcore", "slack_bolt", "slack_sdk", "discord", "aiohttp"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    # The scheduler logs a line for every job it runs: only worth reading while debugging.
    for chatty in CHATTY_LIBRARIES:
        logging.getLogger(chatty).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """An unexpected failure: the exception's type and where it happened, never its message.
    Database errors quote the statement's parameters, and those can be entry text."""
    import traceback

    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s: %s\n%s", what, type(exc).__name__, frames.rstrip())

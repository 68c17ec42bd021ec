"""Logging: human-readable by default, JSON lines with one option. Never a token or entry text:
code logs ids and counts only, and the handler's filter masks anything that looks like a token
or a statement's parameters.

`log_level` is the level of the bot's own loggers (`bot`, `integrations`). Every other logger
(database drivers, HTTP clients, platform SDKs) stays at INFO or above whatever that level is:
at DEBUG they write SQL parameters and request bodies, and both carry entry text."""

from __future__ import annotations

import json
import logging
import re
import sys

OWN = ("bot", "integrations")
# Libraries that log request or response bodies even at INFO: kept at WARNING.
QUIET = (
    "openai",
    "httpx",
    "httpcore",
    "slack_bolt",
    "slack_sdk",
    "discord",
    "microsoft_agents",
    "aiohttp",
    "aiosqlite",
    "sqlalchemy",
    "psycopg",
    "websockets",
    "urllib3",
)
_TOKEN = re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|sk-[A-Za-z0-9_-]{8,})")
# What SQLAlchemy appends to a statement or an error when parameters are not hidden.
_PARAMETERS = re.compile(r"\[(?:SQL )?parameters: .*?\](?=\s*(?:\n|\(|$))", re.DOTALL)


def _own(name: str) -> bool:
    return any(name == own or name.startswith(own + ".") for own in OWN)


# Libraries whose INFO lines are routine (APScheduler: "Running job", "executed successfully").
CHATTY_LIBRARIES = ("apscheduler",)


class RedactTokens(logging.Filter):
    """Masks tokens and statement parameters, and drops other libraries' DEBUG records."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO and not _own(record.name):
            return False
        message = record.getMessage()
        masked = _PARAMETERS.sub("[parameters hidden]", _TOKEN.sub("<redacted>", message))
        if masked != message:
            record.msg, record.args = masked, None
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
    number = logging.getLevelName(level.upper())
    if not isinstance(number, int):
        number = logging.INFO
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(max(number, logging.INFO))
    for name in OWN:
        logging.getLogger(name).setLevel(number)
    for name in QUIET:
        logging.getLogger(name).setLevel(max(number, logging.WARNING))
    # The scheduler logs a line for every job it runs: only worth reading while debugging.
    for chatty in CHATTY_LIBRARIES:
        logging.getLogger(chatty).setLevel(
            logging.INFO if number <= logging.DEBUG else logging.WARNING
        )


def log_failure(logger: logging.Logger, what: str, exc: BaseException) -> None:
    """An unexpected failure: the exception's type and where it happened, never its message.
    Database errors quote the statement's parameters, and those can be entry text."""
    import traceback

    frames = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("%s: %s\n%s", what, type(exc).__name__, frames.rstrip())

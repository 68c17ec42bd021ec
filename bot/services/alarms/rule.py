"""What an alarm rule is: a key, a title, the `[alarms]` settings it reads, and a check that
returns findings. A rule speaks in counts and ids, never in entry text or names."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.store.models import Group


@dataclass(frozen=True)
class Finding:
    rule: str
    subject: str  # "experiment:3", "round:7", "cycle:2", "group:1"
    detail: str
    since: datetime  # when the condition began to hold


Check = Callable[[AsyncSession, Settings, Group, datetime], Awaitable[list[Finding]]]


@dataclass(frozen=True)
class Rule:
    key: str  # stored on every alarm it raises: never rename one
    title: str  # how lists, DMs and digests name it
    check: Check
    settings: tuple[str, ...] = ()  # the `[alarms]` keys it reads, for docs and help


def aware(value: datetime) -> datetime:
    """Aggregates (max) may come back naive on SQLite: every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

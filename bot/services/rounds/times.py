"""Whose clock a round's times are read on: the member's timezone, else the group's, else UTC."""

from __future__ import annotations

import zoneinfo
from datetime import date, datetime

from bot.store.models import Group, Member


def zone(name: str | None, fallback: str = "UTC") -> zoneinfo.ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return zoneinfo.ZoneInfo(candidate)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def format_time(moment: datetime, timezone: str) -> str:
    """'Thu 26 Nov 09:00 (Europe/London)': a close time as the reader's clock shows it."""
    tz = zone(timezone)
    return f"{moment.astimezone(tz).strftime('%a %d %b %H:%M')} ({tz.key})"


def tz_of(member: Member, group: Group) -> str:
    return zone(member.timezone, group.timezone).key


def is_away(member: Member, today: date) -> bool:
    return member.away_until is not None and member.away_until >= today

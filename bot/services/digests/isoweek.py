"""ISO weeks ("2026-W48") in a group's timezone: the unit a digest is built and stored for."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, date, datetime, time, timedelta

from bot.errors import UserError

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)


def iso_week(moment: datetime, timezone: str) -> str:
    year, week, _ = moment.astimezone(zoneinfo.ZoneInfo(timezone)).isocalendar()
    return f"{year}-W{week:02d}"


def parse_week(text: str) -> str:
    match = _WEEK.match(text.strip())
    if match:
        year, week = int(match.group(1)), int(match.group(2))
        try:
            date.fromisocalendar(year, week, 1)
        except ValueError:
            pass
        else:
            return f"{year}-W{week:02d}"
    raise UserError(f"'{text}' is not a week. Use an ISO week such as 2026-W48.")


def week_bounds(week: str, timezone: str) -> tuple[datetime, datetime]:
    """[start, end) of the ISO week in the group's timezone, as UTC instants."""
    year, number = (int(part) for part in parse_week(week).split("-W"))
    monday = date.fromisocalendar(year, number, 1)
    zone = zoneinfo.ZoneInfo(timezone)
    start = datetime.combine(monday, time(), zone)
    end = datetime.combine(monday + timedelta(days=7), time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def weeks_before(week: str, count: int) -> list[str]:
    """`count` weeks ending with `week`, oldest first."""
    year, number = (int(part) for part in week.split("-W"))
    monday = date.fromisocalendar(year, number, 1)
    out = []
    for back in range(count - 1, -1, -1):
        y, w, _ = (monday - timedelta(weeks=back)).isocalendar()
        out.append(f"{y}-W{w:02d}")
    return out

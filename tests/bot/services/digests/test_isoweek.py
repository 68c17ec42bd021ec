from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.errors import UserError
from bot.services.digests.isoweek import iso_week, parse_week, week_bounds, weeks_before


def test_weeks_in_the_group_timezone() -> None:
    assert iso_week(datetime(2026, 11, 29, 12, tzinfo=UTC), "UTC") == "2026-W48"
    assert iso_week(datetime(2026, 11, 29, 12, tzinfo=UTC), "Pacific/Auckland") == "2026-W49"
    start, end = week_bounds("2026-W49", "Pacific/Auckland")
    assert start == datetime(2026, 11, 29, 11, tzinfo=UTC)  # Monday 00:00 at UTC+13
    assert end - start == timedelta(days=7)
    assert parse_week("2026w48") == "2026-W48"
    for bad in ("2026-W54", "last week", "2026-48"):
        with pytest.raises(UserError, match="is not a week"):
            parse_week(bad)
    assert weeks_before("2027-W01", 3) == ["2026-W52", "2026-W53", "2027-W01"]

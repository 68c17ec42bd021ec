"""The one cron parser: what it accepts fires, and as often as a schedule may."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain import cron

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("expression", "first"),
    [
        ("0 16 * * fri", datetime(2026, 11, 27, 16, 0, tzinfo=UTC)),
        ("0 * * * *", datetime(2026, 11, 23, 9, 0, tzinfo=UTC)),
        ("0 9 29 2 *", datetime(2028, 2, 29, 9, 0, tzinfo=UTC)),  # a leap day still fires
        ("30 8 * * 0", datetime(2026, 11, 29, 8, 30, tzinfo=UTC)),  # 0 is Sunday
    ],
)
def test_schedules_that_fire_are_accepted(expression: str, first: datetime) -> None:
    trigger = cron.check(expression, "UTC", NOW)
    assert trigger.get_next_fire_time(None, NOW) == first


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("61 * * * *", "'61': the last value (61) is higher than the maximum value (59)"),
        ("0 9 * *", "wrong number of fields; got 4, expected 5"),
        ("0 9 31 2 *", "it never fires: no date matches it"),
        ("0 9 31 4,6,9,11 *", "it never fires: no date matches it"),
        ("* * * * *", "it fires every minute; a schedule may fire at most once an hour"),
        ("0,59 9 * * mon", "it fires 59 minutes apart; a schedule may fire at most once an hour"),
        ("0 9 * * " + "1," * 60 + "1", "longer than 100 characters"),
        ("0 9 * * 1/x", "bad day of week '1/x'"),
    ],
)
def test_schedules_that_cannot_run_as_meant_are_refused(expression: str, reason: str) -> None:
    with pytest.raises(ValueError) as info:
        cron.check(expression, "UTC", NOW)
    assert str(info.value) == reason

"""Five-field cron expressions: one parser for the config check, the schedule commands and the
scheduler, so a schedule that is accepted is one that runs.

Expressions use standard weekday numbers (0 or 7 = Sunday) and are read with APScheduler 3's
CronTrigger. `check` also refuses what parses but makes no sense as a schedule: one that never
fires, one that fires more than once an hour, one too long to be written by hand."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

# Longer than any hand-written schedule; stops a pasted blob from being parsed at all.
MAX_LENGTH = 100
# Digests, scheduled rounds and the alarm evaluation are at most hourly work: a cron that fires
# several times within one hour is a mistake (usually `*` in the minute field).
MIN_INTERVAL = timedelta(hours=1)
# A schedule with no fire time within this long (say `0 9 31 2 *`) never fires.
HORIZON = timedelta(days=5 * 366)

_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_TICK = timedelta(microseconds=1)


def _weekdays(field: str) -> str:
    """Cron's numeric weekdays (0 or 7 = Sunday) as names: APScheduler 3 counts from Monday."""
    if not any(ch.isdigit() for ch in field):
        return field
    days: list[int] = []
    for part in field.split(","):
        spec, _, step_text = part.partition("/")
        if step_text and not step_text.isdigit():
            raise ValueError(f"bad day of week '{part}'")
        step = int(step_text) if step_text else 1
        if spec == "*":
            low, high = 0, 6
        elif "-" in spec:
            first, last = spec.split("-", 1)
            low, high = _day_number(first), _day_number(last)
        else:
            low = _day_number(spec)
            high = 6 if step_text else low
        if step < 1 or low > high:
            raise ValueError(f"bad day of week '{part}'")
        days.extend(range(low, high + 1, step))
    return ",".join(_DAYS[d % 7] for d in sorted(set(days)))


def _day_number(text: str) -> int:
    lowered = text.lower()
    if lowered in _DAYS:
        return _DAYS.index(lowered)
    if not lowered.isdigit() or int(lowered) > 7:
        raise ValueError(f"bad day of week '{text}'")
    return int(lowered)  # 7 stays 7 so that ranges such as 5-7 (Friday to Sunday) work


def parse(expression: str, timezone: str) -> CronTrigger:
    """A five-field cron expression in `timezone`; ValueError when it does not parse."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"wrong number of fields; got {len(fields)}, expected 5")
    minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_weekdays(weekday),
            timezone=zoneinfo.ZoneInfo(timezone),
        )
    except ValueError as exc:
        raise ValueError(str(exc).removeprefix("Error validating expression ")) from None


def check(
    expression: str,
    timezone: str,
    now: datetime,
    *,
    max_length: int = MAX_LENGTH,
) -> CronTrigger:
    """`parse`, and refuse a schedule that is too long, never fires within HORIZON of `now`,
    or fires twice within MIN_INTERVAL. ValueError says which, in a few words."""
    if len(expression) > max_length:
        raise ValueError(f"longer than {max_length} characters")
    trigger = parse(expression, timezone)
    first = trigger.get_next_fire_time(None, now)
    if first is None or first > now + HORIZON:
        raise ValueError("it never fires: no date matches it")
    # Every minute listed fires in each hour that fires, so the first two fires counted from
    # the start of the first firing hour are its closest pair.
    hour = first.replace(minute=0, second=0, microsecond=0)
    a = trigger.get_next_fire_time(None, hour)
    b = trigger.get_next_fire_time(a, a + _TICK) if a is not None else None
    if a is not None and b is not None and b - a < MIN_INTERVAL:
        gap = int((b - a).total_seconds() // 60)
        every = "every minute" if gap == 1 else f"{gap} minutes apart"
        raise ValueError(f"it fires {every}; a schedule may fire at most once an hour")
    return trigger


def last_fire(trigger: BaseTrigger, now: datetime, within: timedelta) -> datetime | None:
    """The latest time `trigger` fired in (now - within, now], or None."""
    candidate = trigger.get_next_fire_time(None, now - within + _TICK)
    latest = None
    while candidate is not None and candidate <= now:
        latest = candidate
        candidate = trigger.get_next_fire_time(candidate, candidate + _TICK)
    return latest


def next_after(trigger: BaseTrigger, now: datetime) -> datetime | None:
    """The first fire time after `now`."""
    if isinstance(trigger, IntervalTrigger):
        interval: timedelta = trigger.interval
        return now + interval
    found: datetime | None = trigger.get_next_fire_time(None, now + _TICK)
    return found

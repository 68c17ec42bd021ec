"""Durations as people type them ('90m', '12h', '3d', '2w'): one reading for commands, templates
and schedules alike."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.text import shown
from bot.errors import UserError

_DURATION = re.compile(r"^([0-9]{1,4})\s*(m|min|h|d|w)$", re.ASCII)
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_duration(text: str) -> timedelta:
    """'90m', '12h', '3d', '2w' -> timedelta."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise UserError(
            f"'{shown(text)}' is not a duration. Use a number and a unit, e.g. 12h, 3d, 2w."
        )
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])

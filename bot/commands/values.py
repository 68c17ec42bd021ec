"""Parsing and checking of user-typed values. Every failure is a short UserError that says what
is accepted. Numbers and ids are ASCII digits only: `١٠٠`, `1_00`, `²` or `+5` are refused
rather than read as something the person may not have meant."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.domain.text import clean
from bot.errors import UserError

_DURATION = re.compile(r"^([0-9]{1,4})\s*(m|min|h|d|w)$", re.ASCII)
_UNITS = {"m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_DIGITS = re.compile(r"^[0-9]+$", re.ASCII)
MAX_ID_DIGITS = 9


def _shown(text: str) -> str:
    """A typed value quoted back in an error, cut short: never a wall of text."""
    return text if len(text) <= 40 else text[:40] + "…"


def parse_duration(text: str) -> timedelta:
    """'90m', '12h', '3d', '2w' -> timedelta."""
    match = _DURATION.match(text.strip().lower())
    if not match or int(match.group(1)) == 0:
        raise UserError(
            f"'{_shown(text)}' is not a duration. Use a number and a unit, e.g. 12h, 3d, 2w."
        )
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2)])


def parse_id(text: str, what: str) -> int:
    """Ids are the short integers shown in lists; '#12' is accepted too."""
    digits = text.removeprefix("#")
    if not _DIGITS.match(digits) or len(digits) > MAX_ID_DIGITS:
        article = "an" if what[0] in "aeiou" else "a"
        raise UserError(
            f"'{_shown(text)}' is not {article} {what} id. Ids are the numbers shown in lists "
            "(digits 0-9), e.g. 12."
        )
    return int(digits)


def check_text(name: str, value: str, *, max_length: int, required: bool = True) -> str:
    value = clean(value).strip()
    if required and not value:
        raise UserError(f"{name} is required.")
    if len(value) > max_length:
        raise UserError(f"{name} is too long ({len(value)} characters; the limit is {max_length}).")
    return value


def check_int(name: str, value: str, *, low: int, high: int) -> int:
    example = low + (high - low) * 7 // 10
    accepted = f"{name} must be a whole number from {low} to {high} in digits 0-9, like {example}."
    if not _DIGITS.match(value) or len(value) > 12:
        raise UserError(accepted)
    number = int(value)
    if not low <= number <= high:
        raise UserError(f"{name} must be from {low} to {high}, not {number}.")
    return number


def check_choice(name: str, value: str, options: tuple[str, ...]) -> str:
    cleaned = value.strip().lower()
    if cleaned not in options:
        raise UserError(f"{name} must be one of: {', '.join(options)}.")
    return cleaned


def check_bool(name: str, value: str) -> bool:
    cleaned = value.strip().lower()
    if cleaned in {"yes", "y", "true", "1", "on"}:
        return True
    if cleaned in {"no", "n", "false", "0", "off", ""}:
        return False
    raise UserError(f"{name} must be yes or no.")

"""Parsing and checking of user-typed values. Every failure is a short UserError that says what
is accepted. Numbers and ids are ASCII digits only: `١٠٠`, `1_00`, `²` or `+5` are refused
rather than read as something the person may not have meant."""

from __future__ import annotations

import re

# Re-exported: commands read every typed value from here; the rules themselves are domain values.
from bot.domain.checks import check_text as check_text
from bot.domain.durations import parse_duration as parse_duration
from bot.domain.text import shown
from bot.errors import UserError

_DIGITS = re.compile(r"^[0-9]+$", re.ASCII)
MAX_ID_DIGITS = 9


def parse_id(text: str, what: str) -> int:
    """Ids are the short integers shown in lists; '#12' is accepted too."""
    digits = text.removeprefix("#")
    if not _DIGITS.match(digits) or len(digits) > MAX_ID_DIGITS:
        article = "an" if what[0] in "aeiou" else "a"
        raise UserError(
            f"'{shown(text)}' is not {article} {what} id. Ids are the numbers shown in lists "
            "(digits 0-9), e.g. 12."
        )
    return int(digits)


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

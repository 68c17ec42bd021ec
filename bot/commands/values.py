"""Parsing and checking of user-typed values. Every failure is a short UserError."""

from __future__ import annotations

# Re-exported: commands read every typed value from here; the rules themselves are domain values.
from bot.domain.checks import check_text as check_text
from bot.domain.durations import parse_duration as parse_duration
from bot.errors import UserError


def parse_id(text: str, what: str) -> int:
    """Ids are the short integers shown in lists; '#12' is accepted too."""
    cleaned = text.strip().removeprefix("#")
    if not cleaned.isdigit() or len(cleaned) > 9:
        raise UserError(f"'{text}' is not a {what} id. Ids are the numbers shown in lists.")
    return int(cleaned)


def check_int(name: str, value: str, *, low: int, high: int) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        raise UserError(f"{name} must be a whole number from {low} to {high}.") from None
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

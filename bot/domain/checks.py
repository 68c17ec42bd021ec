"""Checks of typed text that both commands and services apply: the same limits and the same
words whichever path the text came in by."""

from __future__ import annotations

from bot.domain.text import clean
from bot.errors import UserError


def check_text(name: str, value: str, *, max_length: int, required: bool = True) -> str:
    value = clean(value).strip()
    if required and not value:
        raise UserError(f"{name} is required.")
    if len(value) > max_length:
        raise UserError(f"{name} is too long ({len(value)} characters; the limit is {max_length}).")
    return value

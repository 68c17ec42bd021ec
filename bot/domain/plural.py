"""A count and the word that agrees with it, for every message that prints one."""

from __future__ import annotations


def plural(count: float, one: str, many: str | None = None) -> str:
    """`1 person`, `2 people`, `0 experiments`, `1.5 days`: `many` defaults to `one` + "s"."""
    shown = f"{count:g}" if isinstance(count, float) else str(count)
    return f"{shown} {one if count == 1 else (many or one + 's')}"

"""Autocomplete for ids: experiments, cycles and rounds as the person types, from the core's
`lookups` read model.

Only titles are offered, never entries; the channel's own group comes first. Discord shows at
most 25 suggestions and needs them within 3 seconds, so each lookup is small and indexed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.domain import ChannelRef
from bot.domain.views import CommandInfo, Lookup, LookupKind
from bot.ports import Port

LIMIT = 25
NAME_LIMIT = 100


@dataclass(frozen=True)
class Suggestion:
    name: str
    value: str | int


def _matches(typed: str, ident: int, title: str) -> bool:
    typed = typed.strip().lower().removeprefix("#")
    return not typed or str(ident).startswith(typed) or typed in title.lower()


def _label(ident: int, title: str, extra: str = "") -> str:
    text = f"#{ident} {title}" + (f" ({extra})" if extra else "")
    return text if len(text) <= NAME_LIMIT else text[: NAME_LIMIT - 1] + "…"


def _suggest(rows: Sequence[Lookup], typed: str, as_int: bool) -> list[Suggestion]:
    """The lookups that match what was typed, as at most 25 suggestions."""
    out = [
        Suggestion(_label(r.ident, r.title, r.note), r.ident if as_int else str(r.ident))
        for r in rows
        if _matches(typed, r.ident, r.title)
    ]
    return out[:LIMIT]


async def ids(
    port: Port, kind: LookupKind, channel: ChannelRef, typed: str, *, as_int: bool
) -> list[Suggestion]:
    return _suggest(await port.lookups(kind, channel), typed, as_int)


def commands(specs: Sequence[CommandInfo], typed: str) -> list[Suggestion]:
    typed = typed.strip().lower()
    names = [s.name for s in specs if typed in s.name]
    return [Suggestion(n, n) for n in names[:LIMIT]]


def templates(keys: Sequence[str], typed: str) -> list[Suggestion]:
    typed = typed.strip().lower()
    return [Suggestion(k, k) for k in sorted(keys) if typed in k][:LIMIT]

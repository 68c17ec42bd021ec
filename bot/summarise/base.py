"""The Summariser protocol and the plain values it works on.

Only entries a digest may show ever reach a summariser: the caller filters out `private` and
`facilitators` entries and replaces names by labels that hold for one digest or round summary
("Member B"), or consented names, first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class Entry:
    id: str  # "checkin:12", "response:40"
    text: str
    author: str  # "Member B" for this digest only, or the name when the author chose `named`
    surprise: int | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class Quote:
    entry_id: str
    text: str  # a verbatim substring of the entry's text
    author: str


@dataclass(frozen=True)
class Theme:
    label: str
    summary: str
    quotes: tuple[Quote, ...]
    entry_ids: tuple[str, ...]

    def shown_quotes(self) -> tuple[Quote, ...]:
        """The quotes a reader sees under the theme, numbered from 1 by `digest edit`: the
        opening sentence is often the first quote too, and it is said once."""
        return tuple(q for q in self.quotes if q.text != self.summary)


@dataclass(frozen=True)
class Summary:
    themes: tuple[Theme, ...]
    questions: tuple[str, ...]
    summariser: str  # which one produced it ("offline", "llm", "offline (fallback)")


class Summariser(Protocol):
    name: str

    async def summarise(
        self,
        entries: Sequence[Entry],
        *,
        max_themes: int,
        max_quotes: int,
        history: Sequence[str] = (),
    ) -> Summary:
        """Themes of `entries`. `history`: the group's earlier shareable texts, which a
        summariser may learn its words from; never quoted or counted."""
        ...

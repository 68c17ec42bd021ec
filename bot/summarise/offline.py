"""Offline summariser (placeholder until theme detection lands): one theme of all entries."""

from __future__ import annotations

from collections.abc import Sequence

from bot.summarise.base import Entry, Quote, Summary, Theme


class OfflineSummariser:
    name = "offline"

    async def summarise(
        self, entries: Sequence[Entry], *, max_themes: int, max_quotes: int
    ) -> Summary:
        if not entries:
            return Summary((), (), self.name)
        quotes = tuple(Quote(e.id, e.text, e.author) for e in entries[:max_quotes])
        theme = Theme("everything", "All entries.", quotes, tuple(e.id for e in entries))
        return Summary((theme,), (), self.name)

"""Themes for a digest: from the configured summariser, or the offline one when it fails, and
always checked against the entries they claim to come from."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.services.context import Deps
from bot.services.entries import GroupEntry
from bot.summarise import Entry, Quote, Summary, Theme
from bot.summarise.offline import OfflineSummariser

log = logging.getLogger(__name__)


async def summarise(
    deps: Deps,
    entries: Sequence[GroupEntry],
    *,
    max_themes: int,
    history: Sequence[str] = (),
) -> Summary:
    """Themes from the configured summariser; on any failure, from the offline one. Whatever
    comes back is checked against the entries it was given (see `verified`). `history`: the
    group's earlier shareable texts, for the summariser's sense of its words."""
    plain: list[Entry] = [e.entry for e in entries]
    max_quotes = deps.settings.digest.max_quotes_per_theme
    try:
        summary = await deps.summariser.summarise(
            plain, max_themes=max_themes, max_quotes=max_quotes, history=history
        )
    except Exception as exc:
        if isinstance(deps.summariser, OfflineSummariser):
            raise
        # The type only: a message may quote entry text, which never reaches a log.
        log.warning(
            "summariser %s failed (%s); using the offline one",
            deps.summariser.name,
            type(exc).__name__,
        )
        fallback = await OfflineSummariser().summarise(
            plain, max_themes=max_themes, max_quotes=max_quotes, history=history
        )
        summary = Summary(fallback.themes, fallback.questions, "offline (fallback)")
    return verified(summary, entries)


def verified(summary: Summary, entries: Sequence[GroupEntry]) -> Summary:
    """Keep only what the entries support: source ids among them, quotes that are verbatim
    substrings of the cited entry, and the author that entry carries (label or name)."""
    by_id = {e.id: e.entry for e in entries}
    themes = []
    for theme in summary.themes:
        ids = tuple(dict.fromkeys(i for i in theme.entry_ids if i in by_id))
        quotes = tuple(
            Quote(q.entry_id, q.text.strip(), by_id[q.entry_id].author)
            for q in theme.quotes
            if q.entry_id in by_id and q.text.strip() and q.text.strip() in by_id[q.entry_id].text
        )
        if not ids and not quotes:
            continue
        ids = ids or tuple(dict.fromkeys(q.entry_id for q in quotes))
        themes.append(Theme(theme.label, theme.summary, quotes, ids))
    return Summary(tuple(themes), summary.questions, summary.summariser)

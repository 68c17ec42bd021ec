"""Summarisers turn shareable entries into themes with verbatim quotes."""

from bot.summarise.base import Entry, Quote, Summariser, Summary, Theme

__all__ = ["Entry", "Quote", "Summariser", "Summary", "Theme"]

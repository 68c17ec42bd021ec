"""Wording the sections share: excerpts in the author's own words, experiment references,
which way check-ins lean, and source id lists without repeats."""

from __future__ import annotations

from collections.abc import Sequence

from bot.store.models import Experiment
from bot.summarise.offline import sentences

EXCERPT = 220


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The first sentence in quotation marks, cut at a word when long; always the author's own
    words (an elision is marked with …)."""
    parts = sentences(text)
    first = parts[0] if parts else text.strip()
    if len(first) <= limit:
        return f"“{first}”"
    return f"“{first[:limit].rsplit(' ', 1)[0]}…”"


def sentence_end(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?…" else f"{text}."


def ref(e: Experiment) -> str:
    return f"#{e.id} “{e.title}”"


def lean(conf: tuple[float, int] | None) -> str | None:
    """Which way the check-ins' confidence slider leans: weaker, unchanged or stronger."""
    if conf is None:
        return None
    mean = conf[0]
    return "stronger" if mean >= 55 else "weaker" if mean <= 45 else "unchanged"


def sources(*groups: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(s for g in groups for s in g))

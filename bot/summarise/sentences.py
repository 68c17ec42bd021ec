"""Sentences as spans of the original text, so a quote cut from one is always verbatim."""

from __future__ import annotations

import re

# A sentence: from a non-space up to terminal punctuation followed by space/end, a line break,
# or the end. Spans index the original text, so a quote is always an exact substring.
_SENTENCE = re.compile(r"\S.*?(?:[.!?]+[\"'’”)\]]*(?=\s|\Z)|(?=\n)|\Z)", re.DOTALL)


def sentences(text: str) -> list[str]:
    """The sentences of `text`, each an exact substring of it."""
    return [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]

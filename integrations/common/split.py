"""Text cut to a platform's size limits: whole pieces at line or word boundaries, or one
clipped piece that ends in an ellipsis."""

from __future__ import annotations

ELLIPSIS = "…"


def clip(text: str, limit: int) -> str:
    """`text`, or its first `limit - 1` characters and an ellipsis when it is longer."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def split_text(text: str, limit: int) -> list[str]:
    """Pieces of at most `limit` characters, cut at a line end, else a space, when that keeps at
    least half a piece; otherwise cut hard. Empty text is one empty piece."""
    pieces: list[str] = []
    rest = text.strip()
    while len(rest) > limit:
        cut = rest.rfind("\n", 0, limit + 1)
        if cut < limit // 2:
            cut = rest.rfind(" ", 0, limit + 1)
        if cut < limit // 2:
            cut = limit
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:].strip()
    if rest or not pieces:
        pieces.append(rest)
    return pieces

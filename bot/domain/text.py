"""What people type, made plain before anything reads it: the same text on every platform and
every database, with nothing in it that hides, rewrites the terminal or cannot be stored."""

from __future__ import annotations

import re
import unicodedata

# ANSI/VT escape sequences, removed whole: CSI (ESC [ … final), OSC (ESC ] … BEL or ST),
# the 8-bit CSI and OSC introducers, and the two-character escapes.
_ESCAPES = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
    r"|\x1b[ -/]*[0-~]?"
)
# Invisible characters with no meaning in chat text: zero-width space, word joiner, BOM,
# Mongolian vowel separator, and the bidirectional embeddings, overrides and isolates that
# reorder what is shown (U+200E/U+200F marks stay: mixed-direction text needs them).
_INVISIBLE = dict.fromkeys(
    map(ord, "\u200b\u2060\ufeff\u180e\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
)
_ZWJ, _ZWNJ = "\u200d", "\u200c"
_JOINERS = re.compile(f"[{_ZWJ}{_ZWNJ}]")
_LINE_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85]")
# C0 and C1 control characters, NUL included; tab and newline are dealt with apart.
_CONTROLS_BUT_LAYOUT = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_LAYOUT = re.compile(r"[\t\n]")
# Lone surrogates: bytes a terminal could not decode; no database or platform can encode them.
_SURROGATES = re.compile("[\ud800-\udfff]")


def _keeps_joiner(text: str, at: int) -> bool:
    """A joiner between two visible characters stays: ZWJ builds emoji sequences, ZWNJ is
    spelling in Persian and Indic scripts. Anywhere else it only hides."""
    if at == 0 or at == len(text) - 1:
        return False
    before, after = text[at - 1], text[at + 1]
    if text[at] == _ZWJ:
        return unicodedata.category(after) == "So" and (
            unicodedata.category(before) in ("So", "Sk") or before == "\ufe0f"
        )
    return unicodedata.category(before)[0] in "LM" and unicodedata.category(after)[0] == "L"


def clean(text: str, *, multiline: bool = True) -> str:
    """NFC; escape sequences, invisible characters and control characters (NUL included)
    removed; undecodable bytes as U+FFFD; line breaks as `\\n`, kept with tabs only in
    `multiline` text, else spaces."""
    text = _SURROGATES.sub("\ufffd", text)
    text = _LINE_BREAKS.sub("\n", text)
    text = _ESCAPES.sub("", text)
    text = text.translate(_INVISIBLE)
    if _JOINERS.search(text):
        text = "".join(
            c for i, c in enumerate(text) if c not in (_ZWJ, _ZWNJ) or _keeps_joiner(text, i)
        )
    text = _CONTROLS_BUT_LAYOUT.sub("", text)
    if not multiline:
        text = _LAYOUT.sub(" ", text)
    return unicodedata.normalize("NFC", text)


def shown(text: str) -> str:
    """A typed value quoted back in an error, cut short: never a wall of text."""
    return text if len(text) <= 40 else text[:40] + "…"

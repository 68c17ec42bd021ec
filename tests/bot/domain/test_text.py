from __future__ import annotations

import pytest

from bot.domain.text import clean


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("\u200b\u2060\ufeff", ""),
        ("a\x1b[1;31mb\x1b[0m", "ab"),  # CSI, removed whole
        ("a\x1b]0;title\x07b", "ab"),  # OSC ended by BEL
        ("a\x1b]8;;http://x\x1b\\b", "ab"),  # OSC ended by ST
        ("a\x9b2Jb", "ab"),  # 8-bit CSI
        ("a\x00b\x7fc\x85d", "abc\nd"),  # NUL and DEL gone; NEL is a line break
        ("\u202eevil\u202c", "evil"),  # bidirectional overrides
        ("Cafe\u0301", "Caf\u00e9"),  # NFC
        ("one\r\ntwo\rthree\u2028four", "one\ntwo\nthree\nfour"),
        ("bad \ud800 byte", "bad \ufffd byte"),  # an undecodable byte from a terminal
        (
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",
            "\U0001f468\u200d\U0001f469\u200d\U0001f467",
        ),
        (
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
            "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",
        ),
        ("a\u200db", "ab"),  # a joiner between letters hides
        ("\u200c", ""),
    ],
)
def test_clean(typed: str, kept: str) -> None:
    assert clean(typed) == kept


def test_single_line_text_turns_tabs_and_breaks_into_spaces() -> None:
    assert clean("a\tb\nc", multiline=False) == "a b c"
    assert clean("a\tb\nc") == "a\tb\nc"


def test_clean_is_idempotent() -> None:
    typed = "x\x1b[0m\u200b\u0301\x00\ud800\u202e"
    assert clean(clean(typed)) == clean(typed)

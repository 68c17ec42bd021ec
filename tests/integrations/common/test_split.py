from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from integrations.common.split import clip, split_text


def test_text_splits_at_line_ends_within_the_limit() -> None:
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(60))
    chunks = split_text(text, 2000)
    assert all(len(c) <= 2000 for c in chunks) and len(chunks) == 3
    assert all(c.startswith("line ") and c.endswith("x") for c in chunks)
    assert "\n".join(chunks) == text


def test_without_line_ends_text_splits_at_spaces() -> None:
    text = " ".join(["word"] * 30)
    chunks = split_text(text, 22)
    assert all(len(c) <= 22 and c.startswith("word") and c.endswith("word") for c in chunks)
    assert " ".join(chunks) == text


def test_one_unbroken_word_is_cut_hard_and_empty_text_is_one_empty_piece() -> None:
    assert split_text("y" * 4500, 2000) == ["y" * 2000, "y" * 2000, "y" * 500]
    assert split_text("", 2000) == [""]
    assert split_text("  \n ", 10) == [""]


@given(st.text(alphabet=st.sampled_from("ab \n"), max_size=300), st.integers(2, 40))
def test_no_piece_exceeds_the_limit_and_no_word_is_lost(text: str, limit: int) -> None:
    pieces = split_text(text, limit)
    assert all(len(p) <= limit for p in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())


def test_clip_keeps_short_text_and_ends_long_text_with_an_ellipsis() -> None:
    assert clip("short", 5) == "short"
    assert clip("longer", 5) == "long…"
    assert len(clip("x" * 500, 80)) == 80

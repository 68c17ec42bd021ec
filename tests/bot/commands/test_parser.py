from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands.parser import parse
from bot.commands.values import parse_duration
from bot.errors import UserError


def test_words_then_quoted_fields() -> None:
    parsed = parse('checkin 3 happened="ran the clinic pilot" surprise=80 visibility=private')
    assert parsed.words == ["checkin", "3"]
    assert parsed.fields == {
        "happened": "ran the clinic pilot",
        "surprise": "80",
        "visibility": "private",
    }


def test_curly_quotes_and_slash_prefix() -> None:
    assert parse("/cycles cycle new name=“Team A”").fields == {"name": "Team A"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('checkin happened="open', "quote is not closed"),
        ("checkin a=1 a=2", "given twice"),
        ("checkin happened=ran the pilot", "follows the fields"),
    ],
)
def test_bad_lines_are_user_errors(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse(text)


def test_durations() -> None:
    assert parse_duration("3d").days == 3
    assert parse_duration("90m").total_seconds() == 5400
    with pytest.raises(UserError, match="not a duration"):
        parse_duration("soon")


@given(st.text(max_size=200))
def test_any_input_parses_or_is_a_user_error(text: str) -> None:
    try:
        parsed = parse(text)
    except UserError as exc:
        assert str(exc)
    else:
        assert all(isinstance(w, str) for w in parsed.words)

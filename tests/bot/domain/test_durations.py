"""Durations and text checks are domain values: the same words from commands, templates and
schedules, and from the reply typed in a round's DM thread."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.commands import values
from bot.domain.checks import check_text
from bot.domain.durations import parse_duration
from bot.errors import UserError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90m", timedelta(minutes=90)),
        ("45 min", timedelta(minutes=45)),
        ("12H", timedelta(hours=12)),
        (" 3d ", timedelta(days=3)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_durations_people_type(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["soon", "0d", "3", "d", "12345h", "-1d", ""])
def test_anything_else_is_a_user_error_with_an_example(text: str) -> None:
    with pytest.raises(UserError, match=r"is not a duration\. Use a number and a unit, e\.g\. 12h"):
        parse_duration(text)


def test_text_is_trimmed_required_and_limited() -> None:
    assert check_text("answer", "  ok  ", max_length=2) == "ok"
    assert check_text("learned", "   ", max_length=5, required=False) == ""
    with pytest.raises(UserError, match=r"^answer is required\.$"):
        check_text("answer", " ", max_length=5)
    with pytest.raises(UserError, match=r"answer is too long \(6 characters; the limit is 5\)"):
        check_text("answer", "abcdef", max_length=5)


def test_commands_read_the_domain_rules_not_copies() -> None:
    assert values.parse_duration is parse_duration
    assert values.check_text is check_text

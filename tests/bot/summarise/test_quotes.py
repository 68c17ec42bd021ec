from __future__ import annotations

import pytest

from bot.summarise.quotes import is_plan


@pytest.mark.parametrize(
    "text",
    [
        "Share the count with the clinic team.",
        "Invite families to every first visit.",
        "Try the same question with families present.",
        "We will ask the GP practice next week.",
    ],
)
def test_a_next_step_is_a_plan(text: str) -> None:
    assert is_plan(text)


@pytest.mark.parametrize(
    "text",
    [
        "Families change the plan more than any form.",
        "The clinic counted referrals for a second week; they stayed low.",
        "Sharing the count made the clinic team curious.",
        "Test results came back faster at home.",
    ],
)
def test_what_happened_is_not(text: str) -> None:
    assert not is_plan(text)

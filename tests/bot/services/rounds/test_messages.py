"""What a round says, word for word: the prompt DM, the reminder, the summary and the sharing
phrase, each read on the member's own clock."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.domain import Button, ChannelRef, Platform, Visibility
from bot.services.rounds import messages
from bot.services.rounds.queries import Progress
from bot.store.models import Member, Round
from bot.summarise import Quote, Summary, Theme

CLOSES = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def a_round(intro: str = "Look back on the week.") -> Round:
    return Round(
        id=7,
        title="Weekly reflection",
        intro=intro,
        prompts=[{"key": "went", "text": "What went well?"}, {"key": "next", "text": "Next?"}],
        platform="slack",
        workspace="T1",
        channel="C1",
        closes_at=CLOSES,
    )


def test_the_prompt_lists_the_questions_and_the_close_on_the_members_clock() -> None:
    message = messages.prompt_message(a_round(), "Europe/Oslo")
    assert message.text == (
        "*Weekly reflection* (round #7)\nLook back on the week.\n\n"
        "1. What went well?\n2. Next?\n\n"
        "Open until Thu 26 Nov 10:00 (Europe/Oslo). Press Answer, or reply here to answer the "
        "first open question; you can edit your answers until the round closes."
    )
    assert message.buttons == (Button("Answer", "answer 7", "primary"),)


def test_a_round_without_an_intro_has_no_empty_intro_line() -> None:
    text = messages.prompt_message(a_round(intro=""), "UTC").text
    assert text.startswith("*Weekly reflection* (round #7)\n\n1. What went well?")


def test_the_reminder_names_the_round_and_its_close() -> None:
    message = messages.reminder_message(a_round(), "UTC")
    assert message.text == (
        "A reminder: *Weekly reflection* (round #7) closes Thu 26 Nov 09:00 (UTC), and your "
        "answer is not in yet. A few lines are enough."
    )
    assert message.buttons == (Button("Answer", "answer 7", "primary"),)


def test_the_summary_counts_answers_and_threads_themes_and_questions() -> None:
    quote = Quote("response:1", "pairing helped", "Member A")
    theme = Theme("Pairing", "People paired more.", (quote,), ("response:1",))
    summary = Summary((theme,), ("Why now?",), "offline")
    message = messages.summary_message(a_round(), summary, Progress(recipients=1, answered=1))
    assert message.text == (
        "Round #7 *Weekly reflection* is closed: 1 of 1 member answered. "
        "What the group shared, theme by theme, is in the thread."
    )
    assert messages.message_text(message) == (
        f'{message.text}\n\n*Pairing*\nPeople paired more.\n> "pairing helped" (Member A)'
        "\n\n*Questions to take further*\n- Why now?"
    )


def test_a_summary_with_nothing_shared_says_so() -> None:
    empty = Summary((), (), "offline")
    message = messages.summary_message(a_round(), empty, Progress(recipients=3, answered=2))
    assert message.text == (
        "Round #7 *Weekly reflection* is closed: 2 of 3 members answered. "
        "No answers were shared with the group this time."
    )
    assert message.sections == ()


@pytest.mark.parametrize(
    ("visibility", "named", "phrase"),
    [
        (Visibility.PRIVATE, True, "only you can see it"),
        (Visibility.FACILITATORS, False, "only facilitators can see it"),
        (Visibility.GROUP, False, "shared with the group anonymously"),
        (Visibility.GROUP, True, "shared with the group with your name"),
    ],
)
def test_sharing_phrases(visibility: Visibility, named: bool, phrase: str) -> None:
    assert messages.sharing_phrase(visibility, named) == phrase


def test_a_rounds_dms_go_to_the_member_on_the_rounds_platform() -> None:
    member = Member(id=3, user_id="U03")
    assert messages.dm_to(a_round(), member) == ChannelRef(Platform.SLACK, "T1", "U03", "U03")

"""Each platform's escape, on every form the platform would act on."""

from __future__ import annotations

import pytest

from integrations.common.text import ZWSP, discord, slack_mrkdwn, slack_plain, terminal

SLACK_SPECIALS = [
    "<!channel>",
    "<!here>",
    "<!everyone>",
    "<@U123>",
    "<#C123|general>",
    "<!subteam^S123|team>",
    "<https://evil.example|safe>",
    "<!date^1392734382^{date}|Feb 18>",
]


@pytest.mark.parametrize("special", SLACK_SPECIALS)
def test_slack_special_forms_stay_text(special: str) -> None:
    for escaped in (slack_plain(special), slack_mrkdwn(special), slack_mrkdwn("x " + special)):
        assert "<" not in escaped and "&lt;" in escaped
    assert slack_plain("a & b > c") == "a &amp; b &gt; c"


def test_slack_keeps_a_quote_and_leaves_a_markdown_link_as_written() -> None:
    assert slack_mrkdwn("> quoted\nnot > this") == "> quoted\nnot &gt; this"
    assert slack_mrkdwn("[click](https://evil.example)") == "[click](https://evil.example)"
    assert slack_mrkdwn("**bold**") == "*bold*"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("@everyone", f"@{ZWSP}everyone"),
        ("@here", f"@{ZWSP}here"),
        ("<@123456789012345678>", f"<{ZWSP}@123456789012345678>"),
        ("<@!123456789012345678>", f"<{ZWSP}@!123456789012345678>"),
        ("<@&123456789012345678>", f"<{ZWSP}@&123456789012345678>"),
        ("<#123456789012345678>", f"<{ZWSP}#123456789012345678>"),
        ("</cycles help:123>", f"<{ZWSP}/cycles help:123>"),
        ("[click](https://evil.example)", f"[click]{ZWSP}(https://evil.example)"),
        ("[a] (b)", f"[a]{ZWSP} (b)"),
        ("plain [text] and <b>", "plain [text] and <b>"),
    ],
)
def test_discord_mentions_and_masked_links_are_inert(text: str, shown: str) -> None:
    assert discord(text) == shown
    assert discord(shown) == shown  # escaping twice changes nothing


def test_terminal_drops_escapes_and_controls_but_keeps_layout() -> None:
    text = "a\x1b[31mred\x1b[0m\x1b]0;title\x07 b\x07\x08\x00\x7f\x9b2J c\u202ed\ttab\nline"
    assert terminal(text) == "ared b cd\ttab\nline"
    assert terminal("naïve café — “quoted” 🙂") == "naïve café — “quoted” 🙂"

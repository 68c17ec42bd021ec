"""Member text stays text on Slack: what members wrote reaches a round summary and a digest
through the real app and the FakeSlack, and nothing in what Slack receives is a live mention,
a special mention or a link with a label of the member's choosing."""

from __future__ import annotations

import re
from typing import Any

from tests.integrations.slack.conftest import ADMIN, CHANNEL, Bot
from tests.integrations.slack.test_scenarios import answer_through_modal, response_to, start_round
from tests.support.fake_slack import Posted

HOSTILE = (
    "<!channel> <!here> <!everyone> <@U123> <#C999> <!subteam^S1> @everyone <@&role> "
    "[click](https://evil.example) <https://evil.example|safe> & more"
)
# What Slack would act on: <!…>, <@…>, <#…> and <url|label>.
LIVE = re.compile(r"<[!@#]|<https?://")


def mrkdwn_texts(blocks: list[dict[str, Any]]) -> list[str]:
    """Every mrkdwn string in a message's blocks (plain_text is never parsed for mentions)."""
    found: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("type") == "mrkdwn" and isinstance(node.get("text"), str):
                found.append(node["text"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(blocks)
    return found


def assert_inert(posts: list[Posted]) -> str:
    """No post carries a live mention or link in `text` or its blocks; returns all the text."""
    shown = []
    for post in posts:
        for text in [post.text, *mrkdwn_texts(post.blocks)]:
            assert not LIVE.search(text), text
            assert "|safe>" not in text and "|click>" not in text, text
            shown.append(text)
    return "\n".join(shown)


async def test_a_round_summary_and_a_digest_keep_member_text_as_text(bot: Bot) -> None:
    await start_round(bot)
    for user in ("U02", "U03", "U04"):
        await answer_through_modal(
            bot, user, {"tried": f"{HOSTILE} {user}", "noticed": HOSTILE, "visibility": "group"}
        )
    before = len(bot.fake.in_channel(CHANNEL))
    closed = await response_to(bot, ADMIN, "round close")
    assert "closed" in str(closed["text"])
    await bot.until(lambda: len(bot.fake.in_channel(CHANNEL)) > before)
    digest = await response_to(bot, ADMIN, "digest now")
    assert "digest" in str(digest["text"]).lower()
    await bot.until(lambda: any("digest" in p.text.lower() for p in bot.fake.in_channel(CHANNEL)))
    await bot.app.drain_outbox()

    shown = assert_inert(bot.fake.in_channel(CHANNEL))
    # The member's words are there, escaped: they reached the posts and show as written.
    assert "&lt;!channel&gt;" in shown
    assert "&lt;https://evil.example|safe&gt;" in shown
    assert "[click](https://evil.example)" in shown


async def test_an_answer_echoed_to_its_author_is_escaped_too(bot: Bot) -> None:
    await start_round(bot)
    body = await answer_through_modal(bot, "U02", {"tried": HOSTILE, "visibility": "group"})
    view = body["view"]
    assert isinstance(view, dict)
    for text in mrkdwn_texts(view["blocks"]):
        assert not LIVE.search(text), text
    await bot.driver.slash("U02", CHANNEL, "export")  # its file follows by DM
    await bot.until(lambda: any("Your data" in str(r["text"]) for r in bot.fake.responses))
    for payload in bot.fake.responses:
        for text in [str(payload["text"]), *mrkdwn_texts(payload["blocks"])]:  # type: ignore[arg-type]
            assert not LIVE.search(text), text
    for post in bot.fake.dms_to("U02"):
        for text in [post.text, *mrkdwn_texts(post.blocks)]:
            assert not LIVE.search(text), text

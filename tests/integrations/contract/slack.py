"""The Slack driver: real slack-bolt in HTTP mode against FakeSlack, set up as the Slack
scenarios do, with a channel of four people (the first a workspace admin)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.app import App
from bot.config import load_settings
from integrations.slack.adapter import SlackAdapter
from tests.integrations.contract.base import Answer, Post
from tests.integrations.discord.helpers import settle
from tests.integrations.slack.conftest import CHANNEL, SECRET, Bot, seed, slack_env, start_bot
from tests.integrations.slack.test_scenarios import answer_through_modal
from tests.support.fake_slack import FakeSlack, Posted
from tests.support.fake_slack import SlackDriver as Signed


def _text(post: Posted) -> str:
    """The fallback text and every section block's text."""
    parts = [post.text]
    for block in post.blocks:
        text = block.get("text")
        if isinstance(text, dict):
            parts.append(str(text.get("text", "")))
    return "\n".join(parts)


@dataclass
class SlackContractDriver:
    name: str = "slack"
    people: tuple[str, ...] = ("U01", "U02", "U03", "U04")
    _bot: Bot | None = None
    _stack: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def bot(self) -> Bot:
        assert self._bot is not None, "the bot is not started"
        return self._bot

    @property
    def app(self) -> App:
        return self.bot.app

    async def start(self, tmp_path: Path) -> None:
        fake = await FakeSlack(page_size=10).start()
        self._stack.push_async_callback(fake.stop)
        seed(fake, list(self.people))
        app, url = await start_bot(load_settings(path=None, env=slack_env(fake, tmp_path)), fake)
        self._stack.push_async_callback(app.stop)
        adapter = app.adapters.get("slack")
        assert isinstance(adapter, SlackAdapter)
        signed = await self._stack.enter_async_context(Signed(fake, url, SECRET))
        self._bot = Bot(app, adapter, fake, signed)

    async def stop(self) -> None:
        await self._stack.aclose()

    async def command(self, person: str, text: str) -> Answer:
        # As `response_to` in the Slack scenarios, with room for a digest's chart to render.
        before = len(self.bot.fake.responses)
        sent = await self.bot.driver.slash(person, CHANNEL, text)
        assert sent.status == 200
        await self.bot.until(lambda: len(self.bot.fake.responses) > before, within=60)
        answered = self.bot.fake.responses[before]
        await settle(self.app)
        return Answer(str(answered["text"]), answered.get("response_type") == "ephemeral")

    async def answer_prompt(self, person: str, answers: dict[str, str]) -> str:
        body: dict[str, Any] = await answer_through_modal(self.bot, person, answers)
        await settle(self.app)
        assert body.get("response_action") == "update", body
        return str(body["view"]["blocks"][0]["text"]["text"])

    def prompts(self) -> dict[str, int]:
        return self.bot.prompt_dms()

    def delivered(self) -> int:
        return len([p for p in self.bot.fake.posts if p.user is None])

    def channel_posts(self) -> list[Post]:
        posts = self.bot.fake.in_channel(CHANNEL)
        return [
            Post(_text(root), [_text(p) for p in posts if p.thread_ts == root.ts])
            for root in posts
            if root.thread_ts is None
        ]

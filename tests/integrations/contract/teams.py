"""The Teams driver: the real Agents SDK over HTTP against FakeConnector, set up as the Teams
scenarios do, with a team of four people (the first a facilitator by configuration)."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from bot.app import App
from bot.config import load_settings
from integrations.teams.adapter import TeamsAdapter
from tests.integrations.contract.base import Answer, Post
from tests.integrations.discord.helpers import settle
from tests.integrations.teams.conftest import Bot, seed, start_bot, teams_env
from tests.integrations.teams.test_scenarios import answer_by_card
from tests.support.fake_connector import TEAM_CHANNEL, FakeConnector, Posted, TeamsClient


def _is_prompt(post: Posted) -> bool:
    return "(round #" in post.activity_text and bool(post.activity.get("attachments"))


class TeamsContractDriver:
    name = "teams"

    def __init__(self) -> None:
        self.people: tuple[str, ...] = ("29:u01", "29:u02", "29:u03", "29:u04")
        self._bot: Bot | None = None
        self._stack = AsyncExitStack()
        self._answers = 0  # posts that were answers to commands, not deliveries

    @property
    def bot(self) -> Bot:
        assert self._bot is not None, "the bot is not started"
        return self._bot

    @property
    def app(self) -> App:
        return self.bot.app

    async def start(self, tmp_path: Path) -> None:
        fake = await FakeConnector(page_size=2).start()
        self._stack.push_async_callback(fake.stop)
        seed(fake, list(self.people))
        env = teams_env(tmp_path, CYCLES_BOT__FACILITATORS=f"teams:{self.people[0]}")
        app, adapter = await start_bot(load_settings(path=None, env=env))
        self._stack.push_async_callback(app.stop)
        assert isinstance(adapter, TeamsAdapter)
        url = f"http://127.0.0.1:{adapter.http_port}"
        client = await self._stack.enter_async_context(TeamsClient(fake, url))
        self._bot = Bot(app, adapter, fake, client)

    async def stop(self) -> None:
        await self._stack.aclose()

    async def command(self, person: str, text: str) -> Answer:
        fake = self.bot.fake
        before = len(fake.posts)
        typed = self.bot.client.in_channel(person, text)
        thread = typed["conversation"]["id"]

        def answers() -> list[Posted]:
            # In the message's thread (public) or the person's personal chat (private); the
            # answer comes within the turn, or after it when the core is slow.
            # Round prompts sent meanwhile by the outbox are deliveries, not answers.
            return [
                p
                for p in fake.posts[before:]
                if p.conversation == thread or (p.user == person and not _is_prompt(p))
            ]

        assert await self.bot.client.post(typed) == 202
        await self.bot.until(lambda: bool(answers()), within=60, drain=False)
        await settle(self.app)
        [answer] = answers()
        self._answers += 1
        return Answer(answer.text, private=answer.user == person)

    async def answer_prompt(self, person: str, answers: dict[str, str]) -> str:
        card = await answer_by_card(self.bot, person, answers)
        await settle(self.app)
        return card.text

    def prompts(self) -> dict[str, int]:
        return self.bot.prompts()

    def delivered(self) -> int:
        return len(self.bot.fake.posts) - self._answers

    def channel_posts(self) -> list[Post]:
        posts = self.bot.fake.in_channel(TEAM_CHANNEL)
        return [
            Post(
                root.text,
                [p.text for p in posts if p.conversation == root.conversation and p is not root],
            )
            for root in posts
            if root.thread_root == root.id
        ]

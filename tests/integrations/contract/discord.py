"""The Discord driver: real discord.py against FakeDiscord, set up as the Discord scenarios
do, with a server of four people: a facilitator, two plain members and the owner."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.app import App, build_app
from bot.clock import ManualClock
from integrations.discord.adapter import DiscordAdapter
from tests.integrations.contract.base import Answer, Post
from tests.integrations.discord.conftest import discord_settings
from tests.integrations.discord.helpers import answer_round, custom_ids, is_ephemeral, settle
from tests.integrations.discord.test_scenarios import world
from tests.support.fake_discord import FakeDiscord, FakeGuild


def _text(message: dict[str, Any]) -> str:
    parts = [str(message.get("content") or "")]
    for embed in message.get("embeds") or []:
        parts.append(f"{embed.get('title', '')}\n{embed.get('description', '')}")
    return "\n".join(parts)


class DiscordContractDriver:
    name = "discord"

    def __init__(self) -> None:
        self.fake = FakeDiscord()
        self.people: tuple[str, ...] = ()
        self._app: App | None = None
        self._guild: FakeGuild | None = None
        self._channel = 0

    @property
    def app(self) -> App:
        assert self._app is not None, "the bot is not started"
        return self._app

    @property
    def guild(self) -> FakeGuild:
        assert self._guild is not None, "the bot is not started"
        return self._guild

    async def start(self, tmp_path: Path) -> None:
        await self.fake.start()
        self._guild, self._channel, facilitator = world(self.fake, members=3)
        # The server's owner may do everything on Discord: last, so plain members come first.
        owner, *members = self.fake.humans(self._guild)
        plain = [u for u in members if u != facilitator]
        self.people = tuple(str(u) for u in [facilitator, *plain, owner])
        clock = ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))
        self._app = await build_app(
            discord_settings(self.fake, tmp_path), clock=clock, with_scheduler=False
        )
        self._app.add_adapter(DiscordAdapter(self._app.port))
        await self._app.start()

    async def stop(self) -> None:
        try:
            if self._app is not None:
                await self._app.stop()
        finally:
            await self.fake.stop()

    async def command(self, person: str, text: str) -> Answer:
        # The scenarios' commands are `/cycles <group> <sub>` or `/cycles help`, no options.
        words = text.split()
        assert len(words) <= 2, text
        path = " ".join(words)
        # As `run` in the Discord helpers, with room for a digest's chart to render.
        iid = await self.fake.slash(self.guild, self._channel, int(person), path)
        await self.fake.answered(iid, within=60)
        await settle(self.app)
        return Answer(self.fake.answer_text(iid), is_ephemeral(self.fake, iid))

    async def answer_prompt(self, person: str, answers: dict[str, str]) -> str:
        saved = await answer_round(self.fake, int(person), answers)
        await settle(self.app)
        return saved

    def prompts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for user in self.fake.dm_channels:
            dms = [m for m in self.fake.dms(user) if any("answer" in c for c in custom_ids(m))]
            if dms:
                counts[str(user)] = len(dms)
        return counts

    def delivered(self) -> int:
        posts = self.fake.posts(self._channel)
        threads = sum(len(self.fake.thread_of(int(p["id"]))) for p in posts)
        return sum(len(self.fake.dms(u)) for u in self.fake.dm_channels) + len(posts) + threads

    def channel_posts(self) -> list[Post]:
        return [
            Post(_text(root), [_text(m) for m in self.fake.thread_of(int(root["id"]))])
            for root in self.fake.posts(self._channel)
        ]

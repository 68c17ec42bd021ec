"""The recording adapter's driver: people call the port as an adapter would, and what was sent
is read from the recording."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bot.app import App, build_app
from bot.config import load_settings
from bot.domain import Actor, ChannelRef, Form, MemberInfo, Message, Platform, Reply, Role
from tests.integrations.contract.base import Answer, Post
from tests.integrations.discord.helpers import settle
from tests.support.adapter import RecordingAdapter

WORKSPACE = "W1"
CHANNEL = ChannelRef(Platform.CONSOLE, WORKSPACE, "C1")


def _thread(message: Message) -> list[str]:
    return [f"{s.title}\n{s.text}" for s in message.sections]


@dataclass
class RecordingDriver:
    name: str = "recording"
    people: tuple[str, ...] = ("U1", "U2", "U3", "U4")
    adapter: RecordingAdapter = field(default_factory=RecordingAdapter)
    _app: App | None = None

    @property
    def app(self) -> App:
        assert self._app is not None, "the bot is not started"
        return self._app

    async def start(self, tmp_path: Path) -> None:
        env = {"CYCLES_CONFIG": "none", "CYCLES_DATA_DIR": str(tmp_path / "data")}
        self.adapter.members[CHANNEL.channel] = [MemberInfo(p, f"Person {p}") for p in self.people]
        self._app = await build_app(
            load_settings(path=None, env=env), adapters=[self.adapter], with_scheduler=False
        )
        await self._app.start()

    async def stop(self) -> None:
        if self._app is not None:
            await self._app.stop()

    def actor(self, person: str) -> Actor:
        role = Role.FACILITATOR if person == self.people[0] else Role.MEMBER
        return Actor(Platform.CONSOLE, WORKSPACE, person, f"Person {person}", platform_role=role)

    async def command(self, person: str, text: str) -> Answer:
        result = await self.app.port.handle(self.actor(person), CHANNEL, text)
        await settle(self.app)
        assert isinstance(result, Reply), result
        return Answer(result.message.text, result.ephemeral)

    async def answer_prompt(self, person: str, answers: dict[str, str]) -> str:
        [button] = self.adapter.dms_to(person)[-1].message.buttons
        form = await self.app.port.handle(self.actor(person), CHANNEL, button.command)
        assert isinstance(form, Form), form
        values = {**form.values, **answers}
        saved = await self.app.port.handle(self.actor(person), CHANNEL, form.command, values)
        await settle(self.app)
        assert isinstance(saved, Reply) and not saved.errors, saved
        return saved.message.text

    def prompts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for sent in self.adapter.sent:
            user = sent.to.dm_user
            if user is not None and "(round #" in sent.message.text:
                counts[user] = counts.get(user, 0) + 1
        return counts

    def delivered(self) -> int:
        return len(self.adapter.sent)

    def channel_posts(self) -> list[Post]:
        return [
            Post(s.message.text, _thread(s.message))
            for s in self.adapter.sent
            if s.to.dm_user is None and s.to.channel == CHANNEL.channel
        ]

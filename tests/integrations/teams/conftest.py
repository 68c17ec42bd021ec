"""The bot built through the real composition root, its Teams adapter in anonymous mode on a
free port, and a FakeConnector that the SDK's outbound calls reach through each activity's
serviceUrl.

`bot` seeds the fake with one team channel: 25 people (29:u01 a facilitator by configuration)
and a second bot, who must never get a card."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.config import Settings, load_settings
from integrations.teams.adapter import TeamsAdapter
from tests.support.fake_connector import TEAM_CHANNEL, FakeConnector, Posted, TeamsClient
from tests.support.waiting import until

PEOPLE = [f"29:u{n:02d}" for n in range(1, 26)]
FACILITATOR = PEOPLE[0]


def teams_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "CYCLES_CONFIG": "none",
        "CYCLES_DATA_DIR": str(tmp_path / "data"),
        "CYCLES_TEAMS__ALLOW_ANONYMOUS": "true",
        "CYCLES_TEAMS__HTTP_HOST": "127.0.0.1",
        "CYCLES_TEAMS__HTTP_PORT": "0",
        "CYCLES_TEAMS__SEND_RATE_PER_SECOND": "1000",
        "CYCLES_TEAMS__SEND_BURST": "1000",
        "CYCLES_BOT__FACILITATORS": f"teams:{FACILITATOR}",
        **extra,
    }


def seed(fake: FakeConnector, people: list[str] = PEOPLE) -> None:
    for n, user in enumerate(people, start=1):
        fake.name(user, f"Person {n}")
    fake.add_team(TEAM_CHANNEL, people, bots=("28:other-bot",))


async def start_bot(settings: Settings, **kwargs: object) -> tuple[App, TeamsAdapter]:
    app = await build_app(settings, with_scheduler=False, **kwargs)  # type: ignore[arg-type]
    adapter = TeamsAdapter(app.port)
    app.add_adapter(adapter)
    await app.start()
    return app, adapter


@dataclass
class Bot:
    app: App
    adapter: TeamsAdapter
    fake: FakeConnector
    client: TeamsClient

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.adapter.http_port}"

    async def until(
        self, done: Callable[[], bool], *, within: float = 10.0, drain: bool = True
    ) -> None:
        """Drain the outbox (and let background work run) until `done()` or fail."""
        await until(self.app, done, within=within, drain=drain, poll=0.02)

    def prompts(self) -> dict[str, int]:
        """person -> round prompts (cards saying "(round #") they received."""
        counts: dict[str, int] = {}
        for post in self.fake.posts:
            if post.user and "(round #" in post.activity_text:
                counts[post.user] = counts.get(post.user, 0) + 1
        return counts

    def latest_to(self, user: str) -> Posted:
        return self.fake.to_person(user)[-1]

    async def say(self, user: str, text: str) -> int:
        """`user` @mentions the bot in the team channel."""
        return await self.client.post(self.client.in_channel(user, text))

    async def say_personally(self, user: str, text: str) -> int:
        return await self.client.post(self.client.personal(user, text))


@pytest.fixture
async def fake() -> AsyncIterator[FakeConnector]:
    server = await FakeConnector(page_size=10).start()
    seed(server)
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
async def bot(fake: FakeConnector, tmp_path: Path) -> AsyncIterator[Bot]:
    app, adapter = await start_bot(load_settings(path=None, env=teams_env(tmp_path)))
    async with TeamsClient(fake, f"http://127.0.0.1:{adapter.http_port}") as client:
        try:
            yield Bot(app, adapter, fake, client)
        finally:
            await app.stop()

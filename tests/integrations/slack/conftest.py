"""The bot built through the real composition root, its Slack adapter pointed at a FakeSlack.

`workspace` seeds the fake with channel C1: 25 people (U01 a workspace admin), plus a bot, a
deactivated user and Slackbot, who must never get a DM."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.config import Settings, load_settings
from integrations.slack.adapter import SlackAdapter
from tests.support.fake_slack import FakeSlack, SlackDriver
from tests.support.waiting import until

SECRET = "test-signing-secret"
CHANNEL = "C1"
PEOPLE = [f"U{n:02d}" for n in range(1, 26)]
ADMIN = "U01"


def slack_env(fake: FakeSlack, tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "CYCLES_CONFIG": "none",
        "CYCLES_DATA_DIR": str(tmp_path / "data"),
        "SLACK_BOT_TOKEN": fake.bot_token,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.api_url,
        "CYCLES_SLACK__MODE": "http",
        "CYCLES_SLACK__HTTP_HOST": "127.0.0.1",
        "CYCLES_SLACK__HTTP_PORT": "0",
        # Fast pacing: the suite does not wait on real-time limits unless a test asks for them.
        "CYCLES_SLACK__SEND_RATE_PER_SECOND": "1000",
        "CYCLES_SLACK__SEND_BURST": "1000",
        **extra,
    }


def seed(fake: FakeSlack, people: list[str] = PEOPLE) -> None:
    for user in people:
        fake.add_user(user, f"Person {user[1:]}", admin=user == ADMIN)
    fake.add_user("UBOT", "learning-cycles", bot=True)
    fake.add_user("UOTHERBOT", "Some Bot", bot=True)
    fake.add_user("UGONE", "Gone Person", deleted=True)
    fake.add_user("USLACKBOT", "Slackbot")
    fake.add_channel(CHANNEL, [*people, "UBOT", "UOTHERBOT", "UGONE", "USLACKBOT"])


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack(page_size=10).start()
    seed(server)
    try:
        yield server
    finally:
        await server.stop()


@dataclass
class Bot:
    app: App
    adapter: SlackAdapter
    fake: FakeSlack
    driver: SlackDriver

    async def until(
        self, done: Callable[[], bool], *, within: float = 10.0, drain: bool = True
    ) -> None:
        """Drain the outbox (and let background work run) until `done()` or fail."""
        await until(self.app, done, within=within, drain=drain, poll=0.05)

    def prompt_dms(self) -> dict[str, int]:
        """user -> how many round prompts (DMs with an Answer button) they received."""
        counts: dict[str, int] = {}
        for user in self.fake.dm_of:
            prompts = [p for p in self.fake.dms_to(user) if "(round #" in p.text]
            if prompts:
                counts[user] = len(prompts)
        return counts

    def responses_since(self, start: int) -> list[dict[str, object]]:
        return self.fake.responses[start:]


async def start_bot(settings: Settings, fake: FakeSlack, **kwargs: object) -> tuple[App, str]:
    app = await build_app(settings, with_scheduler=False, **kwargs)  # type: ignore[arg-type]
    adapter = SlackAdapter(app.port)
    app.add_adapter(adapter)
    await app.start()
    assert adapter.http is not None
    return app, f"http://127.0.0.1:{adapter.http.port}"


@pytest.fixture
async def bot(fake: FakeSlack, tmp_path: Path) -> AsyncIterator[Bot]:
    settings = load_settings(path=None, env=slack_env(fake, tmp_path))
    app, url = await start_bot(settings, fake)
    adapter = app.adapters.get("slack")
    assert isinstance(adapter, SlackAdapter)
    async with SlackDriver(fake, url, SECRET) as driver:
        try:
            yield Bot(app, adapter, fake, driver)
        finally:
            await app.stop()

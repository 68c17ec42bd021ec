"""A fake Discord on loopback and the bot built through the real composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.clock import ManualClock
from bot.config import Settings, load_settings
from integrations.discord.adapter import DiscordAdapter
from tests.support.fake_discord import FakeDiscord

StartBot = Callable[..., Awaitable[App]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    server = FakeDiscord()
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(datetime(2026, 11, 23, 9, 0, tzinfo=UTC))


def discord_settings(fake: FakeDiscord, tmp_path: Path, **env: str) -> Settings:
    """Settings from the environment alone, as `cycles run` reads them."""
    base = {
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_URL": fake.api_url,
        "CYCLES_DATA_DIR": str(tmp_path / "data"),
        "CYCLES_DISCORD__GUILD_READY_TIMEOUT": "0.05",
        "CYCLES_DISCORD__DM_OPEN_RATE_PER_SECOND": "1000",
        "CYCLES_DISCORD__SEND_RATE_PER_SECOND": "1000",
    }
    return load_settings(path=None, env={**base, **env})


@pytest.fixture
async def start_bot(
    fake: FakeDiscord, tmp_path: Path, clock: ManualClock
) -> AsyncIterator[StartBot]:
    """Start the bot (again, after a stop: same database); every app is stopped at the end."""
    apps: list[App] = []

    async def start(**env: str) -> App:
        app = await build_app(
            discord_settings(fake, tmp_path, **env), clock=clock, with_scheduler=False
        )
        app.add_adapter(DiscordAdapter(app.port))
        await app.start()
        apps.append(app)
        return app

    yield start
    for app in apps:
        await app.stop()

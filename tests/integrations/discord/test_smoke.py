"""`cycles run` with nothing but the environment: it finds Discord, migrates, connects, serves."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from bot.app import build_app, platform_adapters
from integrations.discord.adapter import DiscordAdapter
from tests.integrations.discord.conftest import discord_settings
from tests.integrations.discord.helpers import run
from tests.support.fake_discord import FakeDiscord


async def test_the_composition_root_picks_discord_from_the_environment(
    fake: FakeDiscord, tmp_path: Path
) -> None:
    guild = fake.add_guild(members=1)
    channel = fake.add_channel(guild, "learning")
    app = await build_app(discord_settings(fake, tmp_path), with_scheduler=False)
    [adapter] = platform_adapters(app)
    assert isinstance(adapter, DiscordAdapter)
    app.add_adapter(adapter)
    await app.start()
    try:
        iid = await run(fake, guild, channel, fake.humans(guild)[1], "help")
        assert "round status" in fake.answer_text(iid)
    finally:
        await app.stop()


async def test_cycles_run_serves_discord(fake: FakeDiscord, tmp_path: Path) -> None:
    guild = fake.add_guild(members=1)
    channel = fake.add_channel(guild, "learning")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "DISCORD_TOKEN": fake.token,
        "DISCORD_API_URL": fake.api_url,
        "CYCLES_DATA_DIR": str(tmp_path / "data"),
        "CYCLES_DISCORD__GUILD_READY_TIMEOUT": "0.05",
        "CYCLES_OPS__PORT": "0",
    }
    cycles = Path(sys.executable).parent / "cycles"
    process = await asyncio.create_subprocess_exec(
        str(cycles),
        "run",
        cwd=tmp_path,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        await fake.wait_for(lambda: bool(fake.sockets), within=30)
        iid = await run(fake, guild, channel, fake.humans(guild)[1], "whoami")
        assert "your role is member" in fake.answer_text(iid)
        assert (tmp_path / "data" / "cycles.sqlite3").exists()
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGTERM)
        output, _ = await asyncio.wait_for(process.communicate(), 30)
    assert process.returncode == 0, output.decode()[-2000:]

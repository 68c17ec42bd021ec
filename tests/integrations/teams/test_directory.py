"""What the Teams adapter remembers to write first, kept in the port's key-value store: it
survives a restart (a new Directory over the same database), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.config import load_settings
from bot.services.keyvalue import StateStore
from bot.store.database import Database
from integrations.teams.directory import Directory
from tests.integrations.teams.conftest import FACILITATOR, PEOPLE, seed, start_bot, teams_env
from tests.integrations.teams.test_scenarios import START
from tests.support.fake_connector import FakeConnector, TeamsClient


async def test_tenant_facts_and_personal_chats_outlive_the_process(db: Database) -> None:
    first = Directory(StateStore(db))
    await first.learn("t1", "https://smba.example/emea/", "28:bot")
    await first.learn("t1", "https://smba.example/emea/", "28:bot")  # unchanged: no write
    await first.remember_chat("t1", "29:a", "a:chat-1")

    again = Directory(StateStore(db))
    assert await again.service_url("t1") == "https://smba.example/emea/"
    assert await again.bot_id("t1") == "28:bot"
    assert await again.chat("t1", "29:a") == "a:chat-1"
    assert await again.chat("t1", "29:b") is None
    assert await again.service_url("t2") is None


async def test_a_round_reaches_every_member_once_on_each_database(
    database_url: str, tmp_path: Path
) -> None:
    fake = await FakeConnector(page_size=10).start()
    seed(fake)
    env = teams_env(tmp_path, CYCLES_DATABASE_URL=database_url)
    app, adapter = await start_bot(load_settings(path=None, env=env))
    try:
        async with TeamsClient(fake, f"http://127.0.0.1:{adapter.http_port}") as client:
            fake.throttle.update({PEOPLE[3]: 1})
            assert await client.post(client.in_channel(FACILITATOR, START)) == 202
            for _ in range(200):
                await app.drain_outbox()
                if len({p.user for p in fake.posts if p.user}) == len(PEOPLE):
                    break
                await asyncio.sleep(0.05)  # a throttled send is due again within a second
            await app.drain_outbox()
    finally:
        await app.stop()
        await fake.stop()
    assert sorted(p.user for p in fake.posts if p.user) == sorted(PEOPLE)
    assert sum(fake.opened.values()) == len(PEOPLE)  # each personal chat opened once

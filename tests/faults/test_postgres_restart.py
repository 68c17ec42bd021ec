"""Fault 4: PostgreSQL crashes and comes back while members submit check-ins: every check-in that
was acknowledged is in the database, and every one that was not got a "not saved" reply.

The database is a private server (a crash of the machine's shared one would disturb every other
test), stopped with `pg_ctl -m immediate`: sessions are cut off mid-transaction, the way a crash
or a failover cuts them. The bot keeps running; its pool reconnects once the server is back."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import create_engine, select

from bot.store.models import CheckIn
from tests.faults.conftest import MakeBot
from tests.support.loopback import FakePlatform
from tests.support.postgres import PrivatePostgres, running, synchronous
from tests.support.processes import BotProcess

MEMBERS = 6
SAVED = "Saved check-in #"
NOT_SAVED = "Not saved"


@pytest.fixture
def server() -> Iterator[PrivatePostgres]:
    with running() as made:
        yield made


@dataclass
class Attempt:
    text: str
    reply: str
    sent_at: float


async def submit(bot: BotProcess, user: str, experiment: int, stop: asyncio.Event) -> list[Attempt]:
    done: list[Attempt] = []
    n = 0
    while not stop.is_set():
        n += 1
        text = f"{user}-note-{n}"
        started = time.monotonic()
        answer = await bot.command(
            f'checkin {experiment} happened="{text}" surprise=60 confidence=50',
            user=user,
            source_key=f"{user}:{n}",
        )
        done.append(Attempt(text, answer["text"], started))
        await asyncio.sleep(0.02)
    return done


async def test_a_database_crash_never_turns_a_lost_write_into_a_saved_one(
    server: PrivatePostgres, platform: FakePlatform, bots: MakeBot
) -> None:
    bot = await bots("bot", server.url).start().ready()
    made = await bot.command(
        "experiment new title=Doorstep hypothesis=H try=T expect=E",
        user="fran",
        role="facilitator",
    )
    found = re.search(r"Experiment #(\d+)", made["text"])
    assert found, made
    experiment = int(found.group(1))

    stop = asyncio.Event()
    members = [f"m{n}" for n in range(MEMBERS)]
    workers = [asyncio.create_task(submit(bot, m, experiment, stop)) for m in members]
    await asyncio.sleep(1.5)
    down_at = time.monotonic()
    await asyncio.to_thread(server.stop, "immediate")
    await asyncio.sleep(1.5)
    await asyncio.to_thread(server.start)
    up_at = time.monotonic()
    await asyncio.sleep(2.5)
    stop.set()
    attempts = [a for batch in await asyncio.gather(*workers) for a in batch]
    assert await bot.terminate() == 0

    engine = create_engine(synchronous(server.url))
    try:
        with engine.connect() as conn:
            stored = set(conn.execute(select(CheckIn.happened)).scalars())
    finally:
        engine.dispose()

    saved = {a.text for a in attempts if a.reply.startswith(SAVED)}
    refused = {a.text for a in attempts if a.reply.startswith(NOT_SAVED)}
    other = [a.reply for a in attempts if a.text not in saved | refused]
    assert other == [], other  # never silence, never a vague error: saved, or not saved
    assert saved <= stored, sorted(saved - stored)  # nothing acknowledged was lost
    assert refused, "the outage refused nothing: it did not happen"
    assert any(a.sent_at < down_at for a in attempts if a.text in saved)
    # Once the server is back, the pool reconnects and check-ins are saved again.
    after = [a for a in attempts if a.sent_at > up_at + 1.0]
    assert after
    assert all(a.text in saved for a in after), [a.reply for a in after if a.text not in saved]

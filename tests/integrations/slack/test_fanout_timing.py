"""Fan-out time against the fake with Slack's rate limits on. Slow by nature (minutes for 1,000
members), so it runs only when asked:

    CYCLES_SLACK_FANOUT=25,1000 .venv/bin/pytest tests/integrations/slack/test_fanout_timing.py -s

CYCLES_SLACK_FANOUT_RATE / CYCLES_SLACK_FANOUT_BURST override slack.send_rate_per_second and
slack.send_burst (default: the shipped 1.0 and 5). For each size it times a first round (every
DM conversation opened afresh, so conversations.open's Tier 3 limit counts) and, after a
restart, a second round (the DM conversations are found with users.conversations)."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from bot.config import load_settings
from tests.integrations.slack.conftest import ADMIN, SECRET, slack_env, start_bot
from tests.support.fake_slack import FakeSlack, SlackDriver

SIZES = [int(n) for n in os.environ.get("CYCLES_SLACK_FANOUT", "").split(",") if n.strip()]
pytestmark = pytest.mark.skipif(not SIZES, reason="set CYCLES_SLACK_FANOUT=25,1000 to measure")


async def timed_round(
    fake: FakeSlack, driver: SlackDriver, template: str, members: list[str]
) -> tuple[float, float]:
    """(seconds until the slash command was acknowledged, seconds until every DM was posted)."""
    before = fake.dm_users()
    wanted = {user: before.get(user, 0) + 1 for user in members}
    started = time.monotonic()
    sent = await driver.slash(ADMIN, "CFAN", f"round start {template} for 2d")
    assert sent.status == 200
    ack = time.monotonic() - started
    while fake.dm_users() != wanted:
        assert time.monotonic() - started < 3600
        await asyncio.sleep(0.5)
    return ack, time.monotonic() - started


@pytest.mark.parametrize("size", SIZES)
async def test_fanout_time(size: int, tmp_path: Path) -> None:
    fake = await FakeSlack(page_size=1000, rate_limits=True).start()
    members = [ADMIN, *(f"U{n:05d}" for n in range(size - 1))]
    for user in members:
        fake.add_user(user, f"Person {user}", admin=user == ADMIN)
    fake.add_channel("CFAN", members)
    env = slack_env(fake, tmp_path)
    env["CYCLES_SLACK__SEND_RATE_PER_SECOND"] = os.environ.get("CYCLES_SLACK_FANOUT_RATE", "1.0")
    env["CYCLES_SLACK__SEND_BURST"] = os.environ.get("CYCLES_SLACK_FANOUT_BURST", "5")
    settings = load_settings(path=None, env=env)
    try:
        app, url = await start_bot(settings, fake)
        try:
            async with SlackDriver(fake, url, SECRET) as driver:
                cold = await timed_round(fake, driver, "weekly-reflection", members)
        finally:
            await app.stop()
        app, url = await start_bot(settings, fake)
        try:
            async with SlackDriver(fake, url, SECRET) as driver:
                warm = await timed_round(fake, driver, "dissonance", members)
        finally:
            await app.stop()
    finally:
        await fake.stop()
    limited: dict[str, int] = {}
    for call in fake.calls:
        if call.status == 429:
            limited[call.method] = limited.get(call.method, 0) + 1
    pace = f"{settings.slack.send_rate_per_second}/s burst {settings.slack.send_burst}"
    print(
        f"\nfan-out {len(members)} members, pace {pace}: "
        f"first round ack {cold[0]:.2f}s, all DMs {cold[1]:.1f}s; "
        f"after a restart, second round ack {warm[0]:.2f}s, all DMs {warm[1]:.1f}s; "
        f"429s {limited or 'none'}"
    )
    assert cold[0] < 3.0 and warm[0] < 3.0

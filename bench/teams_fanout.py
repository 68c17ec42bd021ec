"""Teams round fan-out to `fanout_members` people, against a FakeConnector that enforces Teams'
documented limit for one app in one tenant: about 30 requests a second (a token bucket of 30,
refilled at 30 a second), with a 429 and Retry-After past it. Each person's personal chat is
its own conversation, so the per-thread limit (7 a second) does not bind a fan-out.

The members are new to the bot: each costs two calls, opening the personal chat
(POST /v3/conversations) and posting the card. The bot runs through the real SDK and the outbox,
paced by `[teams] send_rate_per_second` and `send_burst` as an operator would set them under the
limit. The clock runs from the @mention to the last card posted; the baseline is the least time
the model allows for that many calls. Duplicates and losses are counted from what the fake
received."""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.suite import Outcome, Row, Scale, median
from bot.app import build_app
from bot.config import load_settings
from bot.services import outbox
from integrations.teams.adapter import TeamsAdapter
from tests.support.fake_connector import TEAM_CHANNEL, FakeConnector, TeamsClient

TENANT_RATE = 30.0  # requests a second per app per tenant (Teams' documentation)
TENANT_BURST = 30
# The bot's pace: under the limit, so a 429 stays the exception.
PACE = 25.0
PACE_BURST = 25
CALLS_PER_MEMBER = 2  # open the personal chat, post the card
TARGET = 1.3
FACILITATOR = "29:u00000"


def minimum_seconds(calls: int) -> float:
    """The least time the model allows for `calls` requests: a burst at once, the rest at rate."""
    return max(0, calls - TENANT_BURST) / TENANT_RATE


async def once(scale: Scale) -> dict[str, Any]:
    """One round to a fresh team, with a fresh bot and database."""
    n = scale.fanout_members
    fake = FakeConnector(page_size=500, limit=(TENANT_RATE, TENANT_BURST))
    await fake.start()
    members = [FACILITATOR, *(f"29:u{i:05d}" for i in range(1, n))]
    fake.add_team(TEAM_CHANNEL, members)
    try:
        with tempfile.TemporaryDirectory(prefix="cycles-bench-teams-") as tmp:
            env = {
                "CYCLES_CONFIG": "none",
                "CYCLES_DATA_DIR": str(Path(tmp) / "data"),
                "CYCLES_TEAMS__ALLOW_ANONYMOUS": "true",
                "CYCLES_TEAMS__HTTP_HOST": "127.0.0.1",
                "CYCLES_TEAMS__HTTP_PORT": "0",
                "CYCLES_TEAMS__SEND_RATE_PER_SECOND": str(PACE),
                "CYCLES_TEAMS__SEND_BURST": str(PACE_BURST),
                "CYCLES_TEAMS__ROSTER_PAGE_SIZE": "500",
                "CYCLES_BOT__FACILITATORS": f"teams:{FACILITATOR}",
                "CYCLES_BOT__LOG_LEVEL": "ERROR",
            }
            app = await build_app(load_settings(path=None, env=env), with_scheduler=False)
            adapter = TeamsAdapter(app.port)
            app.add_adapter(adapter)
            await app.start()
            try:
                url = f"http://127.0.0.1:{adapter.http_port}"
                async with TeamsClient(fake, url) as client:
                    measured = await fan_out(fake, client, members)
                await asyncio.sleep(0.5)  # anything sent twice would have arrived by now
                pending = await outbox.pending_count(app.deps)
            finally:
                await app.stop()
    finally:
        await fake.stop()
    counts = fake.cards_to
    return {
        **measured,
        "members": len(members),
        "duplicates": sum(max(0, counts.get(m, 0) - 1) for m in members),
        "losses": sum(1 for m in members if counts.get(m, 0) == 0),
        "limited": sum(1 for c in fake.calls if c.status == 429),
        "pending_after": pending,
        "calls": _call_counts(fake),
    }


async def fan_out(fake: FakeConnector, client: TeamsClient, members: list[str]) -> dict[str, float]:
    started = time.monotonic()
    status = await client.post(client.in_channel(FACILITATOR, "round start weekly-reflection"))
    if status != 202:
        raise RuntimeError(f"round start was refused: {status}")
    ack = time.monotonic() - started
    counts = fake.cards_to
    deadline = started + 900
    first: float | None = None
    # The facilitator's own answer ("has started") goes to the channel, not to a person.
    while sum(1 for m in members if counts.get(m)) < len(members):
        if first is None and counts:
            first = time.monotonic() - started
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(counts)} of {len(members)} members got the round")
        await asyncio.sleep(0.02)
    return {
        "ack": ack,
        "first_posted": first if first is not None else time.monotonic() - started,
        "all_posted": time.monotonic() - started,
    }


async def run(scale: Scale) -> Outcome:
    runs = [await once(scale) for _ in range(scale.repeats)]
    members = runs[0]["members"]
    duplicates = sum(r["duplicates"] for r in runs)
    losses = sum(r["losses"] for r in runs)
    least = minimum_seconds(members * CALLS_PER_MEMBER)
    wall = median([r["all_posted"] for r in runs])
    model = f"{TENANT_RATE:g}/s per tenant, burst {TENANT_BURST}, 429 past it"
    outcome = Outcome("teams")
    outcome.rows = [
        Row(
            "teams",
            f"Teams round to {members} new members, all cards posted",
            wall,
            "s",
            least or None,  # a round inside one burst has no floor to compare with
            f"(model minimum: {model}; bot paced {PACE:g}/s)",
            wall / least if least else None,
            f"<= {TARGET}x minimum",
            least > 0 and wall <= TARGET * least and duplicates == 0 and losses == 0,
        ),
        Row(
            "teams",
            "Teams: @mention acknowledged",
            median([r["ack"] for r in runs]),
            "s",
            note="roster read (every page), round stored, 202 returned",
        ),
        Row("teams", "Teams duplicates", duplicates, "", target="0", met=duplicates == 0),
        Row("teams", "Teams losses", losses, "", target="0", met=losses == 0),
        Row("teams", "Teams 429s answered by the model", sum(r["limited"] for r in runs), ""),
    ]
    outcome.details = {
        "runs": runs,
        "members": members,
        "model": {"rate_per_s": TENANT_RATE, "burst": TENANT_BURST, "pace": PACE},
        "minimum_seconds": least,
        "pending_after": max(r["pending_after"] for r in runs),
        "calls": runs[-1]["calls"],
    }
    return outcome


def _call_counts(fake: FakeConnector) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in fake.calls:
        kinds = ("activities", "pagedmembers", "members")
        what = next((k for k in kinds if f"/{k}" in call.path), "conversations")
        name = f"{call.method} {what}" + (f" {call.status}" if call.status >= 300 else "")
        counts[name] = counts.get(name, 0) + 1
    return counts

"""3. Round fan-out to a channel of `fanout_members` people, against a FakeSlack that enforces a
rate-limit model: one token bucket per workspace for chat.postMessage (and another, the same
size, for conversations.open), `fanout_rate` calls a second with bursts of `fanout_burst`, and a
429 with Retry-After past it. The bot is configured with that pace (slack.send_rate_per_second
and slack.send_burst), as an operator configures it for their workspace.

The members are people the app has written to before: their DM conversations exist, and the bot
finds them in one users.conversations call. (A first DM ever costs a conversations.open, which
real Slack allows about 50 times a minute: that, not the bot, bounds a first round to a thousand
new people.) The clock runs from the slash command to the last prompt posted; the baseline is
the least time the model allows for that many posts. Every member must get exactly one prompt:
duplicates and losses are counted from what the fake received."""

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
from integrations.slack.adapter import SlackAdapter
from tests.support.fake_slack import Bucket, FakeSlack, SlackDriver

SECRET = "bench-signing-secret"
CHANNEL = "CFAN"
ADMIN = "U00000"
TARGET = 1.2
MODELLED = ("chat.postMessage", "conversations.open")


class ModelSlack(FakeSlack):
    """The fake with the benchmark's rate-limit model in place of Slack's tiers."""

    def __init__(self, rate: float, burst: int, **kwargs: Any) -> None:
        super().__init__(rate_limits=True, **kwargs)
        self.model = (rate, burst)
        self._dm_counts: dict[str, int] = {}

    def _limited(self, method: str, args: dict[str, Any]) -> float:
        if method not in MODELLED:
            return 0.0
        bucket = self._buckets.setdefault(method, Bucket(*self.model))
        return bucket.take()

    def _post(self, channel: str, args: dict[str, Any], thread_ts: str | None) -> str:
        ts = super()._post(channel, args, thread_ts)
        owner = self._owner(channel)
        if owner is not None and not thread_ts:
            self._dm_counts[owner] = self._dm_counts.get(owner, 0) + 1
        return ts

    def dm_users(self) -> dict[str, int]:
        # Counted as posts arrive: the fake asks this on every DM, which is quadratic otherwise.
        return self._dm_counts


def minimum_seconds(posts: int, rate: float, burst: int) -> float:
    """The least time the model allows for `posts` calls: a burst at once, the rest at `rate`."""
    return max(0, posts - burst) / rate


async def once(scale: Scale) -> dict[str, Any]:
    """One round to a fresh channel, with a fresh bot and database."""
    n, rate, burst = scale.fanout_members, scale.fanout_rate, scale.fanout_burst
    fake = ModelSlack(rate, burst, page_size=1000)
    await fake.start()
    members = [ADMIN, *(f"U{i:05d}" for i in range(1, n))]
    for user in members:
        fake.add_user(user, f"Person {user[1:]}", admin=user == ADMIN)
        fake.dm_of[user] = f"D{user}"  # written to before: the DM conversation exists
    fake.add_channel(CHANNEL, members)
    try:
        with tempfile.TemporaryDirectory(prefix="cycles-bench-fanout-") as tmp:
            env = {
                "CYCLES_CONFIG": "none",
                "CYCLES_DATA_DIR": str(Path(tmp) / "data"),
                "SLACK_BOT_TOKEN": fake.bot_token,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": fake.api_url,
                "CYCLES_SLACK__MODE": "http",
                "CYCLES_SLACK__HTTP_HOST": "127.0.0.1",
                "CYCLES_SLACK__HTTP_PORT": "0",
                "CYCLES_SLACK__SEND_RATE_PER_SECOND": str(rate),
                "CYCLES_SLACK__SEND_BURST": str(burst),
                "CYCLES_BOT__LOG_LEVEL": "WARNING",
            }
            app = await build_app(load_settings(path=None, env=env), with_scheduler=False)
            adapter = SlackAdapter(app.port)
            app.add_adapter(adapter)
            await app.start()
            assert adapter.http is not None
            try:
                url = f"http://127.0.0.1:{adapter.http.port}"
                async with SlackDriver(fake, url, SECRET) as driver:
                    measured = await fan_out(fake, driver, members)
                await asyncio.sleep(0.5)  # anything sent twice would have arrived by now
                pending = await outbox.pending_count(app.deps)
            finally:
                await app.stop()
    finally:
        await fake.stop()
    counts = fake.dm_users()
    return {
        **measured,
        "members": len(members),
        "duplicates": sum(max(0, counts.get(m, 0) - 1) for m in members),
        "losses": sum(1 for m in members if counts.get(m, 0) == 0),
        "limited": sum(1 for c in fake.calls if c.status == 429),
        "pending_after": pending,
        "calls": _call_counts(fake),
    }


async def run(scale: Scale) -> Outcome:
    rate, burst = scale.fanout_rate, scale.fanout_burst
    runs = [await once(scale) for _ in range(scale.repeats)]
    members = runs[0]["members"]
    duplicates = sum(r["duplicates"] for r in runs)
    losses = sum(r["losses"] for r in runs)
    least = minimum_seconds(members, rate, burst)
    wall = median([r["all_posted"] for r in runs])
    model = f"{rate:g}/s, burst {burst}, 429 past it"
    outcome = Outcome("fanout")
    outcome.rows = [
        Row(
            "fanout",
            f"round to {members} members, all prompts posted",
            wall,
            "s",
            least,
            f"(model minimum: {model})",
            wall / least if least else None,
            f"<= {TARGET}x minimum",
            least > 0 and wall <= TARGET * least and duplicates == 0 and losses == 0,
        ),
        Row(
            "fanout",
            "first prompt posted",
            median([r["first_posted"] for r in runs]),
            "s",
            note="after the slash command: the channel read, members and round stored",
        ),
        Row(
            "fanout",
            "duplicates",
            duplicates,
            "",
            target="0",
            met=duplicates == 0,
            note=f"all {len(runs)} runs",
        ),
        Row(
            "fanout",
            "losses",
            losses,
            "",
            target="0",
            met=losses == 0,
            note=f"all {len(runs)} runs",
        ),
        Row(
            "fanout",
            "429s answered by the model",
            sum(r["limited"] for r in runs),
            "",
            note=f"all {len(runs)} runs",
        ),
    ]
    outcome.details = {
        "runs": runs,
        "members": members,
        "model": {"rate_per_s": rate, "burst": burst},
        "minimum_seconds": least,
        "pending_after": max(r["pending_after"] for r in runs),
        "calls": runs[-1]["calls"],
    }
    return outcome


async def fan_out(fake: ModelSlack, driver: SlackDriver, members: list[str]) -> dict[str, float]:
    started = time.monotonic()
    sent = await driver.slash(ADMIN, CHANNEL, "round start weekly-reflection for 2d")
    if sent.status != 200:
        raise RuntimeError(f"round start was refused: {sent.status} {sent.body[:200]}")
    ack = time.monotonic() - started
    counts = fake.dm_users()
    deadline = started + 600
    first: float | None = None
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


def _call_counts(fake: FakeSlack) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in fake.calls:
        name = call.method + (f" {call.status}" if call.status != 200 else "")
        counts[name] = counts.get(name, 0) + 1
    return counts

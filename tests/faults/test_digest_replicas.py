"""Fault 2: two replicas against one PostgreSQL at the moment a weekly digest is due: exactly
one digest is posted.

The group's digest is due now (its cron fires every minute, and the minute's fire has just
passed), so whichever replica wins the scheduler lock runs it as soon as it starts; at the same
moment a facilitator's `digest now` reaches each replica. Only one replica runs the scheduler,
and the digest's (group, week) key turns every other attempt into "already posted"."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine, func, select

from bot.domain import ChannelRef, Platform
from bot.services import groups
from bot.store import migrate
from bot.store.database import Database
from bot.store.models import Delivery, Digest
from tests.faults.conftest import MakeBot
from tests.support.loopback import FakePlatform
from tests.support.processes import until

CHANNEL = ChannelRef(Platform.CONSOLE, "console", "learning")


async def seed(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
        async with db.begin() as session:
            group = await groups.ensure_group(session, CHANNEL, name="Frontline", timezone="UTC")
            group.digest_schedule = "* * * * *"
    finally:
        await db.dispose()


def count(sql: Engine, query: object) -> int:
    with sql.connect() as conn:
        return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]


async def test_two_replicas_post_the_due_digest_once(
    pg_url: str, sql: Engine, platform: FakePlatform, bots: MakeBot
) -> None:
    await seed(pg_url)
    platform.add_channel("learning", [("ada", "Ada", "UTC"), ("bo", "Bo", "UTC")])
    a, b = bots("a", pg_url), bots("b", pg_url)
    a.start()
    b.start()
    await asyncio.gather(a.ready(), b.ready())
    replies = await asyncio.gather(
        a.command("digest now", user="fran", role="facilitator"),
        b.command("digest now", user="fran", role="facilitator"),
    )
    await until(lambda: platform.posts_to("learning"), 20, "the digest post", a, b)

    async def roles() -> list[str]:
        return sorted([(await a.health())["scheduler"], (await b.health())["scheduler"]])

    async def has_leader() -> bool:
        return "leader" in await roles()

    await until(has_leader, 10, "a leader", a, b)
    leader = a if (await a.health())["scheduler"] == "leader" else b

    async def digest_job_ran() -> bool:
        return 'cycles_scheduled_jobs_total{job="digest",result="ok"}' in await leader.metrics()

    await until(digest_job_ran, 10, "the scheduled digest job", a, b)
    pending = select(func.count()).where(Delivery.state.in_(("pending", "sending")))
    await until(lambda: count(sql, pending) == 0, 10, "the outbox to empty", a, b)
    await asyncio.sleep(1.0)  # a second fire of the every-minute cron changes nothing either

    assert await roles() == ["leader", "standby"]
    assert len(platform.posts_to("learning")) == 1
    assert "digest" in platform.posts_to("learning")[0].text.lower()
    digests = select(func.count()).select_from(Digest).where(Digest.variant == "group")
    assert count(sql, digests) == 1
    posting = [r["text"] for r in replies if r["text"].startswith("Posting this week's digest")]
    assert len(posting) <= 1, replies
    assert all("already posted" in r["text"] for r in replies if not r["text"].startswith("Post"))
    assert await a.terminate() == 0
    assert await b.terminate() == 0

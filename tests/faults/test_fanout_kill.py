"""Fault 1: a bot killed with SIGKILL in the middle of a 200-member fan-out, started again:
every member has exactly one prompt.

The kill lands at the hardest moment: the platform has accepted a prompt and not yet answered,
so the dead bot's row still says "sending". After the restart that row's lease runs out, the
outbox asks the platform whether a message with its key exists, finds it, and records it as
sent instead of posting it a second time."""

from __future__ import annotations

import time
from collections import Counter

from sqlalchemy import Engine, func, select

from bot.store.models import Delivery
from tests.faults.conftest import MakeBot
from tests.support.loopback import FakePlatform
from tests.support.processes import until

MEMBERS = 200
HOLD_AFTER = 80


def unsent(sql: Engine) -> int:
    with sql.connect() as conn:
        query = select(func.count()).where(Delivery.state.in_(("pending", "sending")))
        return int(conn.execute(query).scalar_one())


async def test_kill_mid_fan_out_then_restart_gives_everyone_exactly_one_prompt(
    pg_url: str, sql: Engine, platform: FakePlatform, bots: MakeBot
) -> None:
    started = time.monotonic()
    people = [(f"u{n:03}", f"Member {n}", "Europe/London") for n in range(MEMBERS)]
    platform.add_channel("learning", people)
    platform.hold_after = HOLD_AFTER
    first = await bots("first", pg_url).start().ready()
    reply = await first.command("round start", user="fran", role="facilitator")
    assert "has started" in reply["text"], reply
    await until(lambda: platform.held == 1, 30, "the fan-out to reach the held post", first)
    first.kill()
    held = platform.posts[-1]
    assert len(platform.posts) == HOLD_AFTER + 1
    platform.release()

    second = await bots("second", pg_url).start().ready()
    everyone = {p[0] for p in people} | {"fran"}  # the facilitator who started it is asked too

    def prompts() -> Counter[str]:
        return Counter(p.target for p in platform.posts if p.kind == "dm" and "(round #" in p.text)

    await until(lambda: set(prompts()) == everyone, 40, "every member's prompt", second)
    await until(lambda: unsent(sql) == 0, 20, "the outbox to empty", second)
    assert await second.terminate() == 0

    counts = prompts()
    assert len(counts) == MEMBERS + 1
    assert set(counts.values()) == {1}, [who for who, n in counts.items() if n > 1]
    assert len(platform.posts) == MEMBERS + 1
    with sql.connect() as conn:
        row = conn.execute(select(Delivery).where(Delivery.key == held.key)).one()
    # The accepted-but-unanswered post was found, not sent again.
    assert (row.state, row.platform_message_id, row.attempts) == ("sent", held.id, 1)
    assert time.monotonic() - started < 40

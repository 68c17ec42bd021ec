from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.commands import Dispatcher
from bot.domain import Role
from bot.services.context import Deps
from bot.store.models import Alarm, Delivery
from tests.support import world
from tests.support.chat import THERE, actor, dm, say
from tests.support.clock import Clock

ELSEWHERE = THERE
DM = dm("u1")
MEM = actor("u3", "Mem")
LEA = actor("u2", "Lea", Role.LEADER)
FAY = actor("u1", "Fay", Role.FACILITATOR)


async def test_alarms_lists_after_evaluating(bot: Dispatcher, deps: Deps, clock: Clock) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s)
        fid = (await world.member(s, "u7", "Flo", role="facilitator")).id
    refused = await say(bot, MEM, "alarms")
    assert refused.message.text == "Only a leader can use `alarms`."
    assert (await say(bot, LEA, "alarms")).message.text == "No open alarms in Frontline."
    async with deps.db.begin() as s:
        e = await world.experiment(s, g, "Quiet", started_at=clock() - timedelta(days=10))
    listed = await say(bot, LEA, "alarms")
    assert listed.message.text == (
        "Open alarms in Frontline:\n"
        f"#1 no recent check-in: Experiment #{e.id} “Quiet” has had no check-in since it "
        "started 10 days ago. (raised 2026-11-23)\n"
        "`alarms ack <id>` acknowledges one; `alarms resolve <id>` resolves it."
    )
    async with deps.db.begin() as s:
        dms = list((await s.execute(select(Delivery.key, Delivery.member_id))).all())
    assert dms == [("alarm:1:" + str(fid), fid)]
    await say(bot, LEA, "alarms")  # listing again raises nothing new
    async with deps.db.begin() as s:
        assert len(list((await s.execute(select(Alarm))).scalars())) == 1
    unknown = await say(bot, LEA, "alarms everything")
    assert unknown.message.text.startswith("Unknown alarms command 'everything'.")


async def test_ack_and_resolve_are_for_facilitators(
    bot: Dispatcher, deps: Deps, clock: Clock
) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s)
        await world.group(s, ELSEWHERE, name="Other")
        await world.experiment(s, g, "Quiet", started_at=clock() - timedelta(days=10))
    await say(bot, LEA, "alarms")
    for words in ("alarms ack 1", "alarms resolve 1"):
        refused = await say(bot, LEA, words)
        assert refused.message.text == f"Only a facilitator can use `{words[:-2]}`."
    assert (await say(bot, FAY, "alarms ack one")).message.text.startswith(
        "'one' is not an alarm id."
    )
    assert (await say(bot, FAY, "alarms ack")).message.text == "Usage: `alarms ack <id>`."
    assert (await say(bot, FAY, "alarms ack 99")).message.text.startswith("There is no alarm #99")
    other = await say(bot, FAY, "alarms ack 1", ELSEWHERE)
    # Another group's alarm reads like a missing one: its existence does not show through.
    assert other.message.text == "There is no alarm #1 here. `alarms` lists the open ones."
    acked = await say(bot, FAY, "alarms ack 1", DM)  # the DM's button works outside the channel
    assert acked.message.text.startswith("Alarm #1 is acknowledged.")
    resolved = await say(bot, FAY, "alarms resolve 1")
    assert resolved.message.text.startswith("Alarm #1 is resolved.")
    again = await say(bot, FAY, "alarms resolve 1")
    assert again.message.text == "Alarm #1 is already resolved."
    assert (await say(bot, LEA, "alarms")).message.text == "No open alarms in Frontline."

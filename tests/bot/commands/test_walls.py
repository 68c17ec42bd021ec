"""Groups are walls: the ids of another group's experiments, check-ins, rounds and alarms read
exactly like ids that do not exist, from every command that takes one; `experiment adopt` is the
one door, by design."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from bot.commands import Dispatcher, make_dispatcher
from bot.domain import Actor, ChannelRef, MemberInfo, Platform, Reply, Role
from bot.services.context import Deps
from bot.store.models import Alarm, CheckIn, Experiment, Round
from tests.support.adapter import RecordingAdapter
from tests.support.chat import ADA, BEA, CAL, FAY, HERE, THERE, said
from tests.support.clock import Clock

OURS = HERE
THEIRS = THERE
OTHER_WORKSPACE = Actor(Platform.CONSOLE, "other", "u4", "Fay", platform_role=Role.FACILITATOR)
NEW = 'experiment new title="{}" hypothesis=h try=t expect=e'
FULL = {"happened": "We ran it", "surprise": "70", "confidence": "40"}


def dm(who: Actor) -> ChannelRef:
    return ChannelRef(who.platform, who.workspace, who.user_id, dm_user=who.user_id)


@dataclass(frozen=True)
class Probe:
    """A command that takes an id, as someone in some place."""

    who: Actor
    text: str  # with {} for the id
    fields: dict[str, str] | None = None


# Every command in the registry that resolves an id of a group's own thing.
FROM_OUR_CHANNEL = [
    Probe(ADA, "experiment show {}"),
    Probe(FAY, "experiment conclude {} learned=x verdict=weaker"),
    Probe(FAY, "experiment conclude {}"),
    Probe(ADA, "checkin {}", FULL),
    Probe(ADA, "checkin experiment={}", FULL),
    Probe(BEA, "checkin edit {}", {"happened": "changed"}),
    Probe(BEA, "checkin edit {}"),
    Probe(ADA, "answer {}", {"tried": "mine"}),
    Probe(ADA, "answer {}"),
    Probe(ADA, "round status {}"),
    Probe(FAY, "round remind {}"),
    Probe(FAY, "round close {}"),
    Probe(FAY, "alarms ack {}"),
    Probe(FAY, "alarms resolve {}"),
]


@pytest.fixture
def bot(deps: Deps) -> Dispatcher:
    people = [MemberInfo(a.user_id, a.display_name) for a in (ADA, BEA, CAL, FAY)]
    deps.adapters.add(RecordingAdapter(members={"elsewhere": people, "learning": people}))
    return make_dispatcher(deps)


async def say(
    bot: Dispatcher, who: Actor, text: str, channel: ChannelRef, fields: dict[str, str] | None
) -> str:
    return await said(bot, who, text, channel, fields=fields)


@pytest.fixture
async def theirs(bot: Dispatcher, deps: Deps, clock: Clock) -> None:
    """Their group has experiment #1, Bea's check-in #1, round #1 sent to everyone (Ada
    included) and alarm #1; our group has experiment #2 and nothing else."""
    assert "started" in await say(bot, BEA, NEW.format("Theirs"), THEIRS, None)
    assert "Saved" in await say(bot, BEA, "checkin 1", THEIRS, FULL)
    assert "started" in await say(bot, ADA, NEW.format("Ours"), OURS, None)
    clock.advance(days=11)
    assert "Open alarms" in await say(bot, FAY, "alarms", THEIRS, None)
    assert "has started" in await say(bot, FAY, "round start for 3d", THEIRS, None)


@pytest.mark.parametrize(
    "probe", FROM_OUR_CHANNEL, ids=lambda p: p.text.format("<id>").split(" learned")[0]
)
@pytest.mark.usefixtures("theirs")
async def test_another_groups_id_reads_like_a_missing_one(
    bot: Dispatcher, deps: Deps, probe: Probe
) -> None:
    missing = await say(bot, probe.who, probe.text.format(99), OURS, probe.fields)
    theirs = await say(bot, probe.who, probe.text.format(1), OURS, probe.fields)
    assert "here" in missing
    assert theirs == missing.replace("99", "1")
    async with deps.db.begin() as s:
        experiment = await s.get_one(Experiment, 1)
        checkin = await s.get_one(CheckIn, 1)
        round_ = await s.get_one(Round, 1)
        alarm = await s.get_one(Alarm, 1)
        assert (experiment.status, checkin.happened) == ("running", "We ran it")
        assert (round_.state, alarm.state) == ("open", "raised")
        assert len((await s.execute(select(CheckIn))).all()) == 1


@pytest.mark.usefixtures("theirs")
async def test_a_dm_reaches_only_your_own(bot: Dispatcher) -> None:
    shown = await say(bot, BEA, "experiment show 1", dm(BEA), None)
    assert shown.startswith("Experiment #1 *Theirs*")
    assert "We ran it" in shown
    edit = await bot.handle(BEA, dm(BEA), "checkin edit 1")
    assert not isinstance(edit, Reply)  # the author's own check-in: the edit form
    refused = await say(bot, CAL, "experiment show 1", dm(CAL), None)
    assert refused == "There is no experiment #1 here. `experiment list` shows the ids."
    refused = await say(bot, CAL, "checkin 1", dm(CAL), FULL)
    assert refused == "There is no experiment #1 here. `experiment list` shows the ids."
    # Round #1 was sent to Ada: she answers it by DM, wherever it came from.
    answered = await say(bot, ADA, "answer 1", dm(ADA), {"tried": "mine"})
    assert answered.startswith("Saved your answers to round #1")
    # An alarm's buttons arrive by DM; they work in the group's workspace and nowhere else.
    other = await say(bot, OTHER_WORKSPACE, "alarms ack 1", dm(OTHER_WORKSPACE), None)
    assert other == "There is no alarm #1 here. `alarms` lists the open ones."
    acked = await say(bot, FAY, "alarms ack 1", dm(FAY), None)
    assert acked.startswith("Alarm #1 is acknowledged.")


@pytest.mark.usefixtures("theirs")
async def test_adopt_is_the_one_door(bot: Dispatcher) -> None:
    adopted = await say(bot, ADA, "experiment adopt 1", OURS, None)
    assert adopted.startswith("Experiment #3 *Theirs* adopted from #1 (elsewhere)")
    shown = await say(bot, ADA, "experiment show 3", OURS, None)
    assert "Adopted from experiment #1." in shown

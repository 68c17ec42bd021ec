from __future__ import annotations

from sqlalchemy import func, select

from bot.commands import Dispatcher
from bot.domain import Form
from bot.services.context import Deps
from bot.store.models import Experiment
from tests.support.chat import ADA, BEA, CAL, FAY, HERE, THERE, dm, say

DM_ADA = dm(ADA)
NEW = 'experiment new title="Cardio first" hypothesis="Results persuade" try="Run it" expect="Yes"'


async def count_experiments(deps: Deps) -> int:
    async with deps.db.begin() as s:
        return (await s.execute(select(func.count(Experiment.id)))).scalar_one()


async def test_new_asks_with_a_form_prefilled_from_inline_fields(bot: Dispatcher) -> None:
    form = await bot.handle(ADA, HERE, 'experiment new title="Cardio first"')
    assert isinstance(form, Form)
    assert form.command == "experiment new"
    assert [f.name for f in form.fields] == ["title", "hypothesis", "try", "expect", "cycle"]
    assert form.values == {"title": "Cardio first"}
    assert [f.name for f in form.fields if not f.required] == ["cycle"]


async def test_new_inline_announces_in_the_channel(bot: Dispatcher, deps: Deps) -> None:
    reply = await say(bot, ADA, NEW)
    assert reply.ephemeral is False
    assert reply.message.text.startswith("Experiment #1 *Cardio first* started by Ada.")
    listed = await say(bot, BEA, "experiment list")
    assert "#1 Cardio first [running] by Ada, no cycle, 0 check-ins" in listed.message.text
    assert await count_experiments(deps) == 1


async def test_new_reports_each_bad_field(bot: Dispatcher, deps: Deps) -> None:
    long_title = "x" * 201
    reply = await say(
        bot,
        ADA,
        f'experiment new title="{long_title}" hypothesis=h try=t expect=e cycle=abc',
    )
    assert set(reply.errors) == {"title", "cycle"}
    assert "the limit is 200" in reply.errors["title"]
    assert "not a cycle id" in reply.errors["cycle"]
    missing = await say(bot, ADA, f"{NEW} cycle=99")
    assert missing.errors == {"cycle": "There is no cycle #99. `cycle list` shows the ids."}
    unknown = await say(bot, ADA, f"{NEW} colour=red")
    assert unknown.message.text.startswith("Unknown field 'colour'")
    assert await count_experiments(deps) == 0


async def test_new_links_a_cycle(bot: Dispatcher) -> None:
    await say(bot, ADA, 'cycle new name=C question="q?" scale=team')
    await say(bot, ADA, f"{NEW} cycle=1")
    listed = await say(bot, ADA, "experiment list")
    assert "cycle #1 C" in listed.message.text


async def test_double_submit_creates_one_experiment(bot: Dispatcher, deps: Deps) -> None:
    fields = {"title": "T", "hypothesis": "H", "try": "X", "expect": "E"}
    first = await say(bot, ADA, "experiment new", fields=fields, source_key="view-1")
    again = await say(bot, ADA, "experiment new", fields=fields, source_key="view-1")
    assert first.message.text.startswith("Experiment #1")
    assert again.message.text.startswith("Already saved")
    assert await count_experiments(deps) == 1


async def test_new_is_refused_in_a_dm(bot: Dispatcher) -> None:
    reply = await say(bot, ADA, NEW, channel=DM_ADA)
    assert reply.message.text == "Run this in your group's channel, not in a direct message."


async def test_list_in_a_dm_shows_your_own_across_groups(bot: Dispatcher) -> None:
    await say(bot, ADA, NEW)
    await say(bot, ADA, NEW.replace("Cardio first", "Elsewhere"), channel=THERE)
    await say(bot, BEA, NEW.replace("Cardio first", "Bea's"))
    mine = await say(bot, ADA, "experiment list", channel=DM_ADA)
    lines = mine.message.text.splitlines()
    assert lines[0] == "Your experiments:"
    assert [line.split(" [")[0] for line in lines[1:]] == ["#1 Cardio first", "#2 Elsewhere"]
    assert "in elsewhere" in lines[2]
    assert "Bea's" not in mine.message.text


async def test_list_where_nothing_runs_yet(bot: Dispatcher) -> None:
    reply = await say(bot, ADA, "experiment list")
    assert reply.message.text == "No experiments here yet. Start one with `experiment new`."


async def test_show_respects_visibility_and_consent(bot: Dispatcher) -> None:
    await say(bot, ADA, NEW)
    checkin = "checkin 1 surprise=50 confidence=50"
    await say(bot, BEA, f'{checkin} happened="group anon"')
    await say(bot, BEA, f'{checkin} happened="group named" named=yes')
    await say(bot, BEA, f'{checkin} happened="for facilitators" visibility=facilitators')
    await say(bot, BEA, f'{checkin} happened="only mine" visibility=private')

    cal = (await say(bot, CAL, "experiment show 1")).message.text
    assert "a member (surprise 50, confidence 50): group anon" in cal
    assert "Bea (surprise 50, confidence 50): group named" in cal
    assert "for facilitators" not in cal and "only mine" not in cal
    assert "Check-ins you can see: 2" in cal

    fay = (await say(bot, FAY, "experiment show 1")).message.text
    assert "a member [visible to facilitators and you] (surprise 50, confidence 50)" in fay
    assert "for facilitators" in fay
    assert "only mine" not in fay

    bea = (await say(bot, BEA, "experiment show 1")).message.text
    assert "only mine" in bea and "you [visible to only you]" in bea
    assert "Check-ins you can see: 4" in bea

    # From another group's channel the experiment is not there at all.
    elsewhere = (await say(bot, CAL, "experiment show 1", channel=THERE)).message.text
    assert elsewhere == "There is no experiment #1 here. `experiment list` shows the ids."


async def test_show_unknown_and_bad_ids(bot: Dispatcher) -> None:
    assert (await say(bot, ADA, "experiment show 42")).message.text == (
        "There is no experiment #42 here. `experiment list` shows the ids."
    )
    assert "is not an experiment id" in (await say(bot, ADA, "experiment show x")).message.text
    assert (await say(bot, ADA, "experiment show")).message.text == (
        "Usage: `experiment show <id>`."
    )


async def test_conclude_by_owner_once(bot: Dispatcher) -> None:
    await say(bot, ADA, NEW)
    refused = await say(bot, BEA, "experiment conclude 1 learned=x verdict=weaker")
    assert refused.message.text == (
        "Only the owner of experiment #1 or a facilitator can conclude it."
    )
    form = await bot.handle(ADA, HERE, "experiment conclude 1")
    assert isinstance(form, Form)
    assert form.command == "experiment conclude 1"
    assert form.values == {"verdict": "unchanged"}
    bad = await say(bot, ADA, "experiment conclude 1 learned=x verdict=maybe")
    assert bad.errors == {"verdict": "verdict must be one of: weaker, unchanged, stronger."}
    done = await say(bot, ADA, 'experiment conclude 1 learned="it works" verdict=Stronger')
    assert done.ephemeral is False
    assert done.message.text == (
        "Experiment #1 *Cardio first* concluded: the hypothesis is stronger. Learned: it works"
    )
    again = await say(bot, ADA, "experiment conclude 1 learned=y verdict=weaker")
    assert again.message.text.startswith("Experiment #1 was already concluded (2026-11-23")
    shown = (await say(bot, CAL, "experiment show 1")).message.text
    assert "Concluded 2026-11-23: hypothesis stronger. Learned: it works" in shown


async def test_conclude_by_a_facilitator_and_a_replayed_submit(bot: Dispatcher) -> None:
    await say(bot, ADA, NEW)
    fields = {"learned": "L", "verdict": "weaker"}
    first = await say(bot, FAY, "experiment conclude 1", fields=fields, source_key="v-9")
    again = await say(bot, FAY, "experiment conclude 1", fields=fields, source_key="v-9")
    assert "concluded: the hypothesis is weaker" in first.message.text
    assert again.message.text == "Already saved: experiment #1 is concluded."


async def test_adopt_from_another_group(bot: Dispatcher, deps: Deps) -> None:
    await say(bot, ADA, NEW, channel=THERE)
    same = await say(bot, ADA, "experiment adopt 1", channel=THERE)
    assert "already belongs to this group" in same.message.text
    adopted = await say(bot, BEA, "experiment adopt 1")
    assert adopted.ephemeral is False
    assert adopted.message.text.startswith(
        "Experiment #2 *Cardio first* adopted from #1 (elsewhere) by Bea"
    )
    twice = await say(bot, CAL, "experiment adopt 1")
    assert twice.message.text == "This group already adopted experiment #1: it runs here as #2."
    async with deps.db.begin() as s:
        copy = await s.get(Experiment, 2)
        assert copy is not None
        assert (copy.adopted_from_id, copy.status) == (1, "running")
    shown = (await say(bot, BEA, "experiment show 2")).message.text
    assert "Owner: Bea" in shown and "Adopted from experiment #1." in shown


async def test_bare_experiment_lists_the_subcommands(bot: Dispatcher) -> None:
    assert "`experiment new`" in (await say(bot, ADA, "experiment")).message.text
    wrong = await say(bot, ADA, "experiment frobnicate")
    assert wrong.message.text.startswith("Unknown experiment command 'frobnicate'.")

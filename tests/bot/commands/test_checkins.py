from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import event, func, select

from bot.commands import Dispatcher
from bot.domain import Button
from bot.domain.text import clean
from bot.services.context import Deps
from bot.store.models import CheckIn, Experiment
from tests.support.chat import ADA, BEA, CAL, ask, dm, say
from tests.support.clock import Clock

DM_ADA = dm(ADA)
NEW = "experiment new title={title} hypothesis=H try=X expect=E"
FULL = {"happened": "We ran it", "surprise": "70", "confidence": "40"}


async def stored(deps: Deps) -> list[CheckIn]:
    async with deps.db.begin() as s:
        return list((await s.execute(select(CheckIn).order_by(CheckIn.id))).scalars())


async def test_inline_checkin_is_saved_privately_with_an_edit_button(
    bot: Dispatcher, deps: Deps
) -> None:
    await say(bot, ADA, NEW.format(title="Cardio"))
    reply = await say(
        bot,
        BEA,
        'checkin 1 happened="Tried it" learned=L next=N surprise=80 confidence=30 '
        "visibility=facilitators named=yes",
    )
    assert reply.ephemeral is True
    assert reply.message.text == (
        "Saved check-in #1 on experiment #1 — visible to facilitators and you."
    )
    assert reply.message.buttons == (Button("Edit", "checkin edit 1"),)
    [c] = await stored(deps)
    assert (c.happened, c.learned, c.next, c.surprise, c.confidence) == (
        "Tried it",
        "L",
        "N",
        80,
        30,
    )
    assert (c.visibility, c.named, c.created_at) == ("facilitators", True, deps.clock())


async def test_defaults_are_group_and_anonymous(bot: Dispatcher, deps: Deps) -> None:
    await say(bot, ADA, NEW.format(title="Cardio"))
    reply = await say(bot, ADA, "checkin 1", fields=FULL)
    assert reply.message.text.endswith("visible to the group, quoted anonymously.")
    [c] = await stored(deps)
    assert (c.visibility, c.named, c.learned) == ("group", False, "")


async def test_missing_fields_ask_with_sliders_at_fifty(bot: Dispatcher) -> None:
    await say(bot, ADA, NEW.format(title="Cardio"))
    form = await ask(bot, ADA, "checkin 1 happened=partly")
    assert form.command == "checkin 1"
    assert [f.name for f in form.fields] == [
        "happened",
        "learned",
        "next",
        "surprise",
        "confidence",
        "visibility",
        "named",
    ]
    assert form.values == {
        "happened": "partly",
        "surprise": "50",
        "confidence": "50",
        "visibility": "group",
        "named": "no",
    }
    kinds = {f.name: (f.kind, f.required) for f in form.fields}
    assert kinds["surprise"] == ("number", True)
    assert kinds["visibility"] == ("select", False)


async def test_without_an_id_your_one_running_experiment_is_used(bot: Dispatcher) -> None:
    await say(bot, ADA, NEW.format(title="Mine"))
    await say(bot, BEA, NEW.format(title="Hers"))
    form = await ask(bot, ADA, "checkin")
    assert form.command == "checkin 1"
    saved = await say(bot, ADA, "checkin", fields=FULL)
    assert "on experiment #1" in saved.message.text


async def test_without_an_id_a_choice_of_running_experiments(bot: Dispatcher, deps: Deps) -> None:
    await say(bot, ADA, NEW.format(title="One"))
    await say(bot, BEA, NEW.format(title="Two"))
    await say(bot, BEA, NEW.format(title="Three"))
    await say(bot, BEA, "experiment conclude 3 learned=x verdict=weaker")
    form = await ask(bot, CAL, "checkin happened=hi")
    assert form.command == "checkin"
    choice = form.fields[0]
    assert (choice.name, choice.kind, choice.options) == ("experiment", "select", ("1", "2"))
    assert "#1 One" in choice.hint and "#2 Two" in choice.hint
    assert form.values["happened"] == "hi"
    saved = await say(bot, CAL, "checkin", fields={**FULL, "experiment": "2"})
    assert "on experiment #2" in saved.message.text
    bad = await say(bot, CAL, "checkin", fields={**FULL, "experiment": "3"})
    assert "only running experiments take check-ins" in bad.errors["experiment"]
    assert len(await stored(deps)) == 1


async def test_a_single_running_experiment_in_the_group_is_used(bot: Dispatcher) -> None:
    await say(bot, ADA, NEW.format(title="Solo"))
    saved = await say(bot, CAL, "checkin", fields=FULL)
    assert "on experiment #1" in saved.message.text


async def test_nothing_to_check_in_on(bot: Dispatcher) -> None:
    nothing = await say(bot, ADA, "checkin", fields=FULL)
    assert nothing.message.text == "No experiments here yet. Start one with `experiment new`."
    in_dm = await say(bot, ADA, "checkin", channel=DM_ADA, fields=FULL)
    assert in_dm.message.text.startswith("There is no running experiment to check in on.")
    missing = await say(bot, ADA, "checkin 7", fields=FULL)
    assert missing.message.text.startswith("There is no experiment #7 here.")


async def test_checkin_from_a_dm_on_your_experiment(bot: Dispatcher) -> None:
    await say(bot, ADA, NEW.format(title="Cardio"))
    saved = await say(bot, ADA, "checkin", channel=DM_ADA, fields=FULL)
    assert "on experiment #1" in saved.message.text


async def test_concluded_experiments_take_no_checkins(bot: Dispatcher, deps: Deps) -> None:
    await say(bot, ADA, NEW.format(title="Cardio"))
    await say(bot, ADA, "experiment conclude 1 learned=x verdict=weaker")
    reply = await say(bot, ADA, "checkin 1", fields=FULL)
    assert reply.message.text.startswith("Experiment #1 is concluded; only running experiments")
    assert await stored(deps) == []


async def test_a_replayed_submit_saves_once(bot: Dispatcher, deps: Deps) -> None:
    await say(bot, ADA, NEW.format(title="Cardio"))
    first = await say(bot, ADA, "checkin 1", fields=FULL, source_key="trigger-1")
    again = await say(bot, ADA, "checkin 1", fields=FULL, source_key="trigger-1")
    assert first.message.text.startswith("Saved check-in #1")
    assert again.message.text.startswith("Already saved check-in #1")
    assert len(await stored(deps)) == 1


async def test_bad_values_are_reported_per_field(bot: Dispatcher, deps: Deps) -> None:
    await say(bot, ADA, NEW.format(title="Cardio"))
    reply = await say(
        bot,
        ADA,
        "checkin 1",
        fields={
            "happened": "x" * 2001,
            "surprise": "lots",
            "confidence": "101",
            "visibility": "world",
            "named": "perhaps",
        },
    )
    assert reply.errors == {
        "happened": "happened is too long (2001 characters; the limit is 2000).",
        "surprise": "surprise must be a whole number from 0 to 100 in digits 0-9, like 70.",
        "confidence": "confidence must be from 0 to 100, not 101.",
        "visibility": "visibility must be one of: group, facilitators, private.",
        "named": "named must be one of: yes, no.",
    }
    unknown = await say(bot, ADA, "checkin 1 mood=great")
    assert unknown.message.text.startswith("Unknown field 'mood'")
    twice = await say(bot, ADA, "checkin 1 experiment=1")
    assert twice.message.text.startswith("Give the experiment id once")
    assert await stored(deps) == []


def _in_range(text: str) -> bool:
    """What the bot accepts: ASCII digits, once escapes and control characters are removed."""
    cleaned = clean(text)
    return cleaned.isascii() and cleaned.isdigit() and 0 <= int(cleaned) <= 100


OUT_OF_RANGE = st.one_of(
    st.integers().filter(lambda n: not 0 <= n <= 100).map(str),
    st.text(max_size=30).filter(lambda t: t.strip() != "" and not _in_range(t)),
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(surprise=OUT_OF_RANGE, confidence=OUT_OF_RANGE)
async def test_any_out_of_range_slider_gets_a_message_and_saves_nothing(
    bot: Dispatcher, deps: Deps, surprise: str, confidence: str
) -> None:
    await say(bot, ADA, NEW.format(title="Cardio"))
    fields = {"happened": "x", "surprise": surprise, "confidence": confidence}
    reply = await say(bot, ADA, "checkin 1", fields=fields)
    assert set(reply.errors) == {"surprise", "confidence"}
    # Text of control characters only is empty once cleaned, and said so.
    assert all("from 0 to 100" in m or "is empty" in m for m in reply.errors.values())
    async with deps.db.begin() as s:
        assert (await s.execute(select(func.count(CheckIn.id)))).scalar_one() == 0


async def test_edit_own_checkin_with_a_prefilled_form(
    bot: Dispatcher, deps: Deps, clock: Clock
) -> None:
    await say(bot, ADA, NEW.format(title="Cardio"))
    await say(bot, BEA, "checkin 1", fields=FULL)
    form = await ask(bot, BEA, "checkin edit 1")
    assert form.command == "checkin edit 1"
    assert form.values == {
        "happened": "We ran it",
        "learned": "",
        "next": "",
        "surprise": "70",
        "confidence": "40",
        "visibility": "group",
        "named": "no",
    }
    clock.advance(hours=3)
    edited = await say(bot, BEA, "checkin edit 1 visibility=private surprise=10")
    assert edited.message.text == "Updated check-in #1 on experiment #1 — visible to only you."
    [c] = await stored(deps)
    assert (c.happened, c.surprise, c.visibility) == ("We ran it", 10, "private")
    assert c.updated_at - c.created_at == timedelta(hours=3)


async def test_only_the_author_may_edit(bot: Dispatcher, deps: Deps) -> None:
    await say(bot, ADA, NEW.format(title="Cardio"))
    await say(bot, BEA, "checkin 1", fields=FULL)
    refused = await say(bot, ADA, "checkin edit 1 happened=mine")
    assert refused.message.text == (
        "You have no check-in #1 here. Only its author can edit a check-in."
    )
    bad = await say(bot, BEA, "checkin edit 1 surprise=500")
    assert bad.errors == {"surprise": "surprise must be from 0 to 100, not 500."}
    [c] = await stored(deps)
    assert (c.happened, c.surprise) == ("We ran it", 70)
    usage = await say(bot, BEA, "checkin edit")
    assert usage.message.text.startswith("Usage: `checkin edit <check-in id>")


async def test_a_check_in_by_id_loads_no_experiment_into_a_session(
    bot: Dispatcher, deps: Deps
) -> None:
    """The common check-in (its id given, every field filled) is saved by one insert that finds
    its experiment running itself, not loaded through the ORM; where that saves nothing, the
    long way still says why."""
    loaded: list[int] = []

    def count(target: Experiment, _context: object) -> None:
        loaded.append(target.id)

    await say(bot, ADA, NEW.format(title="Cardio"))
    event.listen(Experiment, "load", count)
    try:
        here = await say(bot, ADA, "checkin 1 happened=one surprise=60 confidence=55")
        assert here.message.text.startswith("Saved check-in #1 on experiment #1"), here
        # In a DM: the owner's own experiment, then someone who took part in it.
        owner = await say(bot, ADA, "checkin #1", channel=DM_ADA, fields=FULL)
        assert owner.message.text.startswith("Saved check-in #2"), owner
        await say(bot, BEA, "checkin 1 happened=two surprise=60 confidence=55")
        took_part = await say(bot, BEA, "checkin experiment=1", channel=dm(BEA), fields=FULL)
        assert took_part.message.text.startswith("Saved check-in #4"), took_part
        assert loaded == []
        # Someone with nothing to do with it, in a DM, is told what a missing id is told.
        stranger = await say(bot, CAL, "checkin 1", channel=dm(CAL), fields=FULL)
        assert stranger.message.text.startswith("There is no experiment #1 here"), stranger
        await say(bot, ADA, "experiment conclude 1 learned=x verdict=weaker")
        late = await say(bot, BEA, "checkin 1 happened=late surprise=60 confidence=55")
        assert late.message.text.startswith("Experiment #1 is concluded"), late
    finally:
        event.remove(Experiment, "load", count)
    assert len(await stored(deps)) == 4

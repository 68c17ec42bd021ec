"""Hostile input through the whole grammar: every command in the registry and every one of its
fields, typed inline or submitted as a form, by members of two groups and in a DM. Whatever
comes in, the answer is a reply or a form, never the internal-error line, and nothing is
logged as an error."""

from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.commands import Dispatcher, all_specs, make_dispatcher
from bot.commands.registry import CommandSpec
from bot.domain import Actor, ChannelRef, MemberInfo, Reply, Role
from bot.services.context import Deps
from tests.support.adapter import RecordingAdapter
from tests.support.chat import ADA, BEA, HERE, THERE, actor, dm
from tests.support.clock import Clock

OURS = HERE
THEIRS = THERE
FAY = actor("u4", "Fay", Role.ADMIN)
PLACES = [OURS, THEIRS, dm("u1")]
INTERNAL = "Something went wrong on our side"
SPECS = all_specs()

HOSTILE = [
    "\u200b",
    "\u200b\u200d\ufeff",
    "\u202eevil\u202c",
    "\x1b[31mred\x1b[0m\x1b]0;title\x07",
    "a\x00b",
    "\x00",
    "\x07\x08\x7f\x9b",
    "١٠٠",
    "1_00",
    "²",
    "+5",
    " 5 ",
    "-1",
    "9" * 40,
    "1",  # their group's ids, and ours
    "2",
    "#1",
    "Europe/London" * 400,
    "x" * 25_000,
    "\ud800",
    '"',
    "e\u0301",
    "",
]
TEXT = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=60),
    st.text(alphabet=st.sampled_from("0123456789١٢²_+-#\u200b\x00 "), max_size=12),
)


@pytest.fixture
def bot(deps: Deps) -> Dispatcher:
    people = [MemberInfo(a.user_id, a.display_name) for a in (ADA, BEA, FAY)]
    deps.adapters.add(RecordingAdapter(members={"elsewhere": people, "learning": people}))
    return make_dispatcher(deps)


@pytest.fixture
async def world(bot: Dispatcher, clock: Clock) -> Dispatcher:
    """Their group: experiment #1 with a check-in, an alarm and an open round; ours: #2."""
    new = 'experiment new title="{}" hypothesis=h try=t expect=e'
    full = {"happened": "ran it", "surprise": "70", "confidence": "40"}
    await bot.handle(BEA, THEIRS, new.format("Theirs"))
    await bot.handle(BEA, THEIRS, "checkin 1", fields=full)
    await bot.handle(ADA, OURS, new.format("Ours"))
    clock.advance(days=11)
    await bot.handle(FAY, THEIRS, "alarms")
    await bot.handle(FAY, THEIRS, "round start for 3d")
    await bot.handle(FAY, OURS, "round start for 3d")
    return bot


def quoted(value: str) -> str:
    return '"' + value.replace('"', "") + '"'


def check(result: object, caplog: pytest.LogCaptureFixture, what: str) -> None:
    if isinstance(result, Reply):
        assert INTERNAL not in result.message.text, what
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    caplog.clear()
    assert not errors, (what, [r.getMessage() for r in errors])


async def test_hostile_values_in_every_field_of_every_command(
    world: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    """The scripted run: each hostile value as the argument and in every field, inline and as
    a submitted form, from our channel."""
    caplog.set_level(logging.ERROR)
    for spec in SPECS:
        for value in HOSTILE:
            line = f"{spec.name} {quoted(value)}"
            check(await world.handle(ADA, OURS, line), caplog, line)
            fields = {f.name: value for f in spec.fields}
            if fields:
                check(await world.handle(FAY, OURS, spec.name, fields=fields), caplog, line)
                inline = " ".join(f"{k}={quoted(v)}" for k, v in fields.items())
                check(await world.handle(ADA, OURS, f"{spec.name} {inline}"), caplog, line)


@st.composite
def commands(draw: st.DrawFn) -> tuple[Actor, ChannelRef, str, dict[str, str] | None]:
    spec: CommandSpec = draw(st.sampled_from(SPECS))
    words = [quoted(w) for w in draw(st.lists(TEXT, max_size=2))]
    names = [f.name for f in spec.fields] or ["x"]
    chosen = draw(st.dictionaries(st.sampled_from(names), TEXT, max_size=len(names)))
    as_form = draw(st.booleans())
    inline = "" if as_form else " ".join(f"{k}={quoted(v)}" for k, v in chosen.items())
    text = " ".join([spec.name, *words, inline])
    who = draw(st.sampled_from([ADA, BEA, FAY]))
    return who, draw(st.sampled_from(PLACES)), text, (chosen if as_form else None)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(command=commands())
async def test_no_input_is_an_internal_error(
    world: Dispatcher,
    caplog: pytest.LogCaptureFixture,
    command: tuple[Actor, ChannelRef, str, dict[str, str] | None],
) -> None:
    caplog.set_level(logging.ERROR)
    who, where, text, fields = command
    check(await world.handle(who, where, text, fields=fields), caplog, text[:200])

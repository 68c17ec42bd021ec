"""Each command declares its positional parameters once, on its spec: the declared examples are
what its handler accepts, `help <command>` lists them and the port hands them on as values."""

from __future__ import annotations

import pytest

from bot.commands import Dispatcher, all_specs, make_dispatcher
from bot.commands.registry import CommandSpec
from bot.domain import Actor, ChannelRef, Form, Platform, Reply, Role
from bot.domain.params import Param
from bot.services.context import Deps

HERE = ChannelRef(Platform.CONSOLE, "console", "learning")
ROOT = Actor(Platform.CONSOLE, "console", "u0", "Root", platform_role=Role.ADMIN)
ADA = Actor(Platform.CONSOLE, "console", "u1", "Ada")
# What a handler answers when the words after its path do not fit its grammar.
USAGE_MARKS = (
    "Usage",
    "Use `",
    "Unknown",
    "is not a",
    "Name one",
    "is five cron",
    "no learning group",
)


@pytest.fixture
def bot(deps: Deps) -> Dispatcher:
    return make_dispatcher(deps)


def typed(spec: CommandSpec, params: tuple[Param, ...]) -> str:
    return " ".join([*spec.path, *(p.sample() for p in params)])


def invocations() -> list[str]:
    """Every command with parameters: with all of them, then with the required ones only."""
    texts: list[str] = []
    for spec in all_specs():
        if spec.params:
            texts.append(typed(spec, spec.params))
            texts.append(typed(spec, tuple(p for p in spec.params if p.required)))
    return texts


@pytest.mark.parametrize("text", invocations())
async def test_declared_examples_are_what_the_handler_accepts(bot: Dispatcher, text: str) -> None:
    await bot.handle(ADA, HERE, "whoami")  # someone to name in `role add`
    # A learning group here, so that group commands get as far as reading their words.
    await bot.handle(ROOT, HERE, "round start")
    await bot.handle(ROOT, HERE, "round close")
    result = await bot.handle(ROOT, HERE, text)
    if isinstance(result, Form):
        return  # a form to finish the command: the words were accepted
    assert isinstance(result, Reply)
    out = result.message.text
    assert not any(mark in out for mark in USAGE_MARKS), (text, out)


def test_every_command_that_takes_words_declares_them() -> None:
    for spec in all_specs():
        rest = spec.usage.split()[len(spec.path) :]
        words = [w for w in rest if "=" not in w and w not in ("[fields…]", "[…]")]
        group = any(s.path[: len(spec.path)] == spec.path and s != spec for s in all_specs())
        if words and not (group and words == ["<command>"]):
            assert spec.params, spec.name
        for p in spec.params:
            assert p.example, (spec.name, p.name)
            assert not p.options or p.example in p.options, (spec.name, p.name)


async def test_help_lists_a_commands_parameters(bot: Dispatcher) -> None:
    result = await bot.handle(ADA, HERE, "help round start")
    assert isinstance(result, Reply)
    out = result.message.text
    assert "Arguments, in this order:" in out
    assert "  template: The round template" in out
    assert "  duration: How long it stays open, e.g. 12h, 3d, 2w: a duration, optional" in out
    assert "(e.g. `for 3d`)" in out
    result = await bot.handle(ADA, HERE, "help role add")
    assert isinstance(result, Reply)
    assert "  role: The role: one of facilitator, leader" in result.message.text


def test_the_port_hands_on_the_declared_parameters(deps: Deps) -> None:
    from bot.inbound import CorePort
    from bot.metrics import Metrics

    port = CorePort(make_dispatcher(deps), Metrics())
    by_name = {c.name: c for c in port.commands}
    assert by_name["experiment show"].params == next(
        s.params for s in all_specs() if s.name == "experiment show"
    )
    assert [p.type for p in by_name["role add"].params] == ["user", "choice"]

"""The command grammar shared by every platform: text (or a submitted form) -> use case."""

from __future__ import annotations

from bot.commands import (
    alarms,
    checkins,
    cycles,
    digest_talk,
    digests,
    experiments,
    exports,
    groups,
    privacy,
    reminders,
    roles,
    rounds,
    schedules,
    templates,
)
from bot.commands.dispatch import Dispatcher
from bot.commands.help import make_help
from bot.commands.registry import CommandSpec
from bot.services.context import Deps

# Each capability module exports SPECS; the order here is the order `help` lists them.
MODULES = (
    cycles,
    experiments,
    checkins,
    rounds,
    templates,
    reminders,
    schedules,
    digests,
    digest_talk,
    alarms,
    privacy,
    exports,
    roles,
    groups,
)


def all_specs() -> list[CommandSpec]:
    specs: list[CommandSpec] = []
    for module in MODULES:
        specs.extend(module.SPECS)
    specs.insert(0, make_help(specs))
    return specs


def make_dispatcher(deps: Deps) -> Dispatcher:
    return Dispatcher(deps, all_specs())


__all__ = ["CommandSpec", "Dispatcher", "all_specs", "make_dispatcher"]

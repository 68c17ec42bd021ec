"""Command specs: a path of words, a usage line, a handler, its positional parameters, its form
fields and who may run it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from bot.domain import FormField, Role
from bot.domain.params import Param
from bot.domain.views import Result as Result  # re-exported: every command module uses it
from bot.services.context import Invocation


@dataclass
class Args:
    """What the person typed after the command's path."""

    positional: list[str]
    fields: dict[str, str] = field(default_factory=dict)
    # Fields that held text and were empty once cleaned: refused with this message on the field.
    rejected: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Invocation, Args], Awaitable[Result]]


@dataclass(frozen=True)
class CommandSpec:
    path: tuple[str, ...]
    usage: str
    summary: str
    handler: Handler
    fields: tuple[FormField, ...] = ()
    min_role: Role = Role.MEMBER
    details: str = ""
    # The words after the path, declared once for every platform's options and help.
    params: tuple[Param, ...] = ()
    # Its write is keyed by the invocation's source key, so a delivery the platform repeats
    # is not written twice: the core runs it without claiming the delivery first.
    keyed: bool = False

    @property
    def name(self) -> str:
        return " ".join(self.path)


def find(specs: Sequence[CommandSpec], words: list[str]) -> tuple[CommandSpec, list[str]] | None:
    """The spec whose path is the longest prefix of `words`, and the words after it."""
    lowered = [w.lower() for w in words]
    best: CommandSpec | None = None
    for spec in specs:
        n = len(spec.path)
        if tuple(lowered[:n]) == spec.path and (best is None or n > len(best.path)):
            best = spec
    if best is None:
        return None
    return best, words[len(best.path) :]

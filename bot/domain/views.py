"""Read models the core hands to adapters: plain values, never database rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.domain.messages import Button, Form, FormField, Message, Reply
from bot.domain.params import Param

# What the core answers a command with: a reply, or a form to fill in.
Result = Reply | Form

# What autocomplete can look up by id.
LookupKind = Literal["experiment", "cycle", "round"]


@dataclass(frozen=True)
class CommandInfo:
    """One command as a platform lists it (its slash-command options, its help)."""

    path: tuple[str, ...]
    usage: str
    summary: str
    fields: tuple[FormField, ...] = ()
    params: tuple[Param, ...] = ()

    @property
    def name(self) -> str:
        return " ".join(self.path)


@dataclass(frozen=True)
class Lookup:
    """One thing offered while a person types an id: its id, its title and a short note."""

    ident: int
    title: str
    note: str = ""


@dataclass(frozen=True)
class OpenPrompt:
    """An open round sent to the member: how far they got and when it closes, in their zone."""

    round_id: int
    title: str
    answered: int
    questions: int
    closes: str
    button: Button


@dataclass(frozen=True)
class OwnExperiment:
    ident: int
    title: str
    status: str


@dataclass(frozen=True)
class PostedDigest:
    group: str
    week: str
    text: str


@dataclass(frozen=True)
class Home:
    """A member's own open prompts and experiments, and the latest digest of their groups.
    Empty for someone the bot has never seen."""

    prompts: tuple[OpenPrompt, ...] = ()
    experiments: tuple[OwnExperiment, ...] = ()
    digests: tuple[PostedDigest, ...] = field(default=())


@dataclass(frozen=True)
class SentMessage:
    """What a message the bot posted was for: the round it prompted (if any), whether it went to
    one person, and what it said."""

    round_id: int | None
    to_dm: bool
    message: Message

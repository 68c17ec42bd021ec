"""The words a command takes after its path, declared once on its spec and read by every
platform: slash-command options, autocomplete and `help <command>`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# id: a number shown in lists; integer: a number in a range; choice: one of `options`;
# template: a round template key; duration: e.g. 3d; cron: five cron fields; user: a person;
# flag: the parameter's name, present or not; command: a command's words; text: a word or words.
ParamType = Literal[
    "id", "integer", "choice", "template", "duration", "cron", "user", "flag", "command", "text"
]

# What a platform can offer while the value is typed ("" for nothing).
Completion = Literal["", "experiment", "cycle", "round", "command", "template"]


@dataclass(frozen=True)
class Param:
    """One positional parameter of a command, in the order the command reads them."""

    name: str
    type: ParamType
    description: str
    required: bool = False
    options: tuple[str, ...] = ()  # choice: the allowed values
    minimum: int | None = None  # id, integer
    maximum: int | None = None  # integer
    prefix: str = ""  # a word written before the value, e.g. "for" in `round start for 3d`
    rest: bool = False  # takes every remaining word as typed (cron, a command, free text)
    autocomplete: Completion = ""
    example: str = ""  # a value the command accepts, shown in help and used by tests

    def sample(self) -> str:
        """The example as typed, prefix included."""
        value = self.example or self.name
        return f"{self.prefix} {value}" if self.prefix else value


def id_param(
    name: str, what: str, autocomplete: Completion = "", *, required: bool = True
) -> Param:
    """An id as lists show it (`experiment show 3`)."""
    return Param(
        name,
        "id",
        f"The {what} number, as lists show it",
        required=required,
        minimum=1,
        autocomplete=autocomplete,
        example="1",
    )

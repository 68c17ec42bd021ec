"""The `/cycles` application command, built from the core's command specs.

Every core command becomes a subcommand (`round start` -> `/cycles round start`) whose options
are typed from the parameters each spec declares: ids are integers with autocomplete, templates
and roles are choices, users are user pickers, and each form field is an optional option of its
kind. A command whose words are also
the start of longer commands (`checkin` and `checkin edit`) becomes a subcommand of the group
(`/cycles checkin new`). An invocation is turned back into the core's command text plus form
fields, so Discord runs exactly what the console and Slack run."""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol

from bot.domain import FormField
from bot.domain import params as core

ROOT = "cycles"
ROOT_DESCRIPTION = "Learning Cycles: reflection rounds, experiments, check-ins and digests."

# Discord's option types.
SUB_COMMAND, SUB_COMMAND_GROUP, STRING, INTEGER, BOOLEAN, USER = 1, 2, 3, 4, 5, 6

# Discord's limits on a command's shape.
MAX_FIELD_OPTIONS = 12
MAX_OPTIONS = 25
MAX_CHOICES = 25
MAX_DESCRIPTION = 100
MAX_NAME = 32
MAX_STRING = 6000

# A bare command that is also the start of longer ones runs as this subcommand of its group.
BARE_NAMES = {
    "alarms": "list",
    "checkin": "new",
    "export": "mine",
    "forget-me": "ask",
    "group": "show",
}
DEFAULT_BARE = "help"


class Command(Protocol):
    """What the tree needs of a command (the port's CommandInfo has it)."""

    @property
    def path(self) -> tuple[str, ...]: ...
    @property
    def usage(self) -> str: ...
    @property
    def summary(self) -> str: ...
    @property
    def fields(self) -> tuple[FormField, ...]: ...
    @property
    def name(self) -> str: ...
    @property
    def params(self) -> tuple[core.Param, ...]: ...


# Form fields whose values are ids that autocomplete can offer.
FIELD_AUTOCOMPLETE = {"cycle": "cycle", "parent": "cycle", "experiment": "experiment"}

Kind = Literal["word", "raw", "flag", "field"]
_RANGE = re.compile(r"(\d+)\s*(?:to|-|–)\s*(\d+)")


@dataclass(frozen=True)
class Param:
    """One option of a subcommand and how its value goes back into the command."""

    name: str
    description: str
    type: int = STRING
    required: bool = False
    kind: Kind = "word"  # word: a quoted word; raw: words as typed; flag: the name if true
    prefix: str = ""  # a word written before the value, e.g. "for" in `round start for 3d`
    choices: tuple[tuple[str, str], ...] = ()  # (label, value)
    autocomplete: str = ""  # experiment | cycle | round | command | template
    min_value: int | None = None
    max_value: int | None = None
    max_length: int | None = None

    def to_option(self) -> dict[str, Any]:
        option: dict[str, Any] = {
            "type": self.type,
            "name": self.name,
            "description": _clip(self.description or self.name, MAX_DESCRIPTION),
            "required": self.required,
        }
        if self.choices:
            option["choices"] = [
                {"name": _clip(label, 100), "value": int(value) if self.type == INTEGER else value}
                for label, value in self.choices[:MAX_CHOICES]
            ]
        elif self.autocomplete:
            option["autocomplete"] = True
        if self.min_value is not None:
            option["min_value"] = self.min_value
        if self.max_value is not None:
            option["max_value"] = self.max_value
        if self.max_length is not None and self.type == STRING:
            option["max_length"] = min(self.max_length, MAX_STRING)
        return option


@dataclass(frozen=True)
class SubCommand:
    words: tuple[str, ...]  # the core command's path, e.g. ("checkin",)
    names: tuple[str, ...]  # its Discord path under /cycles, e.g. ("checkin", "new")
    description: str
    params: tuple[Param, ...] = ()

    def to_option(self) -> dict[str, Any]:
        return {
            "type": SUB_COMMAND,
            "name": self.names[-1],
            "description": _clip(self.description, MAX_DESCRIPTION),
            "options": [p.to_option() for p in self.params],
        }


@dataclass
class Tree:
    """The subcommands by their Discord path, and the payload registered with Discord."""

    subcommands: dict[tuple[str, ...], SubCommand] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        top: list[dict[str, Any]] = []
        groups: dict[str, dict[str, Any]] = {}
        for names, sub in self.subcommands.items():
            if len(names) == 1:
                top.append(sub.to_option())
                continue
            group = groups.get(names[0])
            if group is None:
                group = {
                    "type": SUB_COMMAND_GROUP,
                    "name": names[0],
                    "description": f"{names[0].capitalize()} commands.",
                    "options": [],
                }
                groups[names[0]] = group
                top.append(group)
            group["options"].append(sub.to_option())
        return {
            "name": ROOT,
            "type": 1,
            "description": ROOT_DESCRIPTION,
            "options": top[:MAX_OPTIONS],
            # Guild channels only: every command acts on the group of the channel it runs in.
            "contexts": [0],
            "integration_types": [0],
        }

    def digest(self, scope: str) -> str:
        """A stable hash of what would be registered, and where."""
        text = json.dumps({"scope": scope, "commands": [self.payload()]}, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _name(word: str) -> str:
    cleaned = re.sub(r"[^a-z0-9_-]", "-", word.lower())[:MAX_NAME]
    return cleaned or "run"


def core_param(p: core.Param, templates: Sequence[str]) -> Param:
    """A command's declared parameter as a Discord option of the matching type."""
    kind: Kind = "raw" if p.rest else "word"
    base = Param(p.name, p.description, required=p.required, kind=kind, prefix=p.prefix)
    if p.type in ("id", "integer"):
        return replace(
            base,
            type=INTEGER,
            autocomplete=p.autocomplete,
            min_value=p.minimum,
            max_value=p.maximum,
        )
    if p.type == "user":
        return replace(base, type=USER)
    if p.type == "flag":
        return replace(base, type=BOOLEAN, kind="flag")
    if p.type == "choice":
        return replace(base, choices=tuple((o, o) for o in p.options))
    # Templates are suggested, never fixed choices: a group may start its own templates
    # (`round template new`), which a command registered for every group cannot list.
    return replace(base, autocomplete=p.autocomplete)


def _takes_words(spec: Command) -> bool:
    """Whether the usage line shows words after the path (fields and their brackets aside)."""
    rest = spec.usage.split()[len(spec.path) :]
    text = " ".join(rest)
    text = re.sub(r"\[[^\]]*=[^\]]*\]", "", text)  # [field=… …]
    text = re.sub(r"\[fields…?\]|\[…\]", "", text)
    return bool(text.strip())


def field_param(f: FormField) -> Param:
    description = f.label if not f.hint else f"{f.label} ({f.hint})"
    if f.kind == "select" and 0 < len(f.options) <= MAX_CHOICES:
        # The choices speak for themselves (and `help` explains them): the label alone keeps
        # /cycles within Discord's 8,000 characters per command.
        return Param(f.name, f.label, choices=tuple((o, o) for o in f.options), kind="field")
    if f.kind == "number":
        match = _RANGE.search(f"{f.hint} {f.label}")
        low, high = (int(match.group(1)), int(match.group(2))) if match else (None, None)
        return Param(f.name, description, INTEGER, kind="field", min_value=low, max_value=high)
    return Param(
        f.name,
        description,
        kind="field",
        max_length=f.max_length,
        autocomplete=FIELD_AUTOCOMPLETE.get(f.name, ""),
    )


def _params(spec: Command, templates: Sequence[str], *, bare: bool = False) -> tuple[Param, ...]:
    words: tuple[Param, ...] = tuple(core_param(p, templates) for p in spec.params)
    if not words and not bare and _takes_words(spec):
        # Undeclared words (`round` and `digest` alone only show their group's usage).
        words = (Param("args", "The rest of the command, as you would type it", kind="raw"),)
    taken = {p.name for p in words}
    # A long form (a round template's five questions) is filled in its modal, not typed as
    # a score of options: it would cost a fifth of /cycles' 8,000 characters on its own.
    typed = spec.fields if len(spec.fields) <= MAX_FIELD_OPTIONS else ()
    fields = tuple(field_param(f) for f in typed if f.name not in taken)
    params = [*words, *fields][:MAX_OPTIONS]
    # Discord lists required options first.
    return tuple(sorted(params, key=lambda p: not p.required))


def build_tree(specs: Sequence[Command], templates: Sequence[str] = ()) -> Tree:
    """Map every spec to a subcommand of /cycles (at most two words deep under it)."""
    keys = sorted(templates)
    paths = {spec.path for spec in specs}
    prefixes = {path[:n] for path in paths for n in range(1, len(path))}
    tree = Tree()
    for spec in specs:
        words = spec.path
        names: tuple[str, ...]
        if len(words) == 1 and words in prefixes:
            names = (_name(words[0]), BARE_NAMES.get(words[0], DEFAULT_BARE))
        elif len(words) <= 2:
            names = tuple(_name(w) for w in words)
        else:  # Discord nests two levels under /cycles: join the tail
            names = (_name(words[0]), _name("-".join(words[1:])))
        if names in tree.subcommands:
            continue
        bare = words in prefixes
        params = _params(spec, keys, bare=bare)
        tree.subcommands[names] = SubCommand(words, names, spec.summary, params)
    return tree


@dataclass(frozen=True)
class Invoked:
    """An invocation turned back into the core's terms."""

    sub: SubCommand
    text: str
    fields: dict[str, str]


def _flatten(data: Mapping[str, Any]) -> tuple[tuple[str, ...], list[dict[str, Any]]]:
    """The Discord path of the subcommand invoked and its option values."""
    names: list[str] = []
    options: list[dict[str, Any]] = list(data.get("options") or [])
    while options and options[0].get("type") in (SUB_COMMAND, SUB_COMMAND_GROUP):
        names.append(str(options[0]["name"]))
        options = list(options[0].get("options") or [])
    return tuple(names), options


def _word(value: str) -> str:
    return value if re.fullmatch(r"[\w@#.:/+-]+", value) else shlex.quote(value)


def invoked(tree: Tree, data: Mapping[str, Any]) -> Invoked | None:
    """The command text and fields for an application-command interaction's data."""
    names, options = _flatten(data)
    sub = tree.subcommands.get(names)
    if sub is None:
        return None
    given = {str(o["name"]): o.get("value") for o in options}
    words = list(sub.words)
    fields: dict[str, str] = {}
    for param in sub.params:
        value = given.get(param.name)
        if value is None or value == "":
            continue
        if param.kind == "field":
            fields[param.name] = str(value)
        elif param.kind == "flag":
            if value is True:
                words.append(param.name)
        else:
            if param.prefix:
                words.append(param.prefix)
            text = str(value).strip()
            words.append(text if param.kind == "raw" else _word(text))
    return Invoked(sub, " ".join(words), fields)


def focused(data: Mapping[str, Any]) -> tuple[tuple[str, ...], str, str]:
    """For an autocomplete interaction: (subcommand path, option name, what was typed)."""
    names, options = _flatten(data)
    for option in options:
        if option.get("focused"):
            return names, str(option["name"]), str(option.get("value", ""))
    return names, "", ""

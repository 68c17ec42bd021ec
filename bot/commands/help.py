"""`help` and `help <command>`: every command, each one's fields, and the commands under a
word such as `round` or `cycle`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.registry import Args, CommandSpec, Result, find
from bot.domain import FormField, Reply, Role
from bot.domain.params import Param
from bot.services.context import Invocation


def describe_field(f: FormField) -> str:
    kind = {
        "select": f"one of {', '.join(f.options)}",
        "number": "a number",
        "long_text": f"text up to {f.max_length} characters",
        "text": f"text up to {f.max_length} characters",
    }[f.kind]
    need = "" if f.required else ", optional"
    hint = f" ({f.hint})" if f.hint else ""
    return f"  {f.name}: {f.label}: {kind}{need}{hint}"


def describe_param(p: Param) -> str:
    kind = {
        "id": "an id",
        "integer": "a whole number",
        "choice": f"one of {', '.join(p.options)}",
        "template": "a template key (`round templates`)",
        "duration": "a duration",
        "cron": "five cron fields",
        "user": "a person",
        "flag": f"the word {p.name}",
        "command": "a command",
        "text": "text",
    }[p.type]
    if p.type == "integer" and p.minimum is not None and p.maximum is not None:
        kind += f" from {p.minimum} to {p.maximum}"
    need = "" if p.required else ", optional"
    example = f" (e.g. `{p.sample()}`)" if p.example and p.type not in ("id", "flag") else ""
    return f"  {p.name}: {p.description}: {kind}{need}{example}"


def _subcommands(specs: Sequence[CommandSpec], words: list[str]) -> list[CommandSpec]:
    """The commands under `words` (`round` -> `round start`, `round status`, ...)."""
    prefix = tuple(w.lower() for w in words)
    return [s for s in specs if len(s.path) > len(prefix) and s.path[: len(prefix)] == prefix]


def _listed(spec: CommandSpec) -> str:
    who = f" ({spec.min_role.label}s)" if spec.min_role > Role.MEMBER else ""
    return f"  `{spec.usage}`: {spec.summary}{who}"


def make_help(specs: Sequence[CommandSpec]) -> CommandSpec:
    async def help_command(inv: Invocation, args: Args) -> Result:
        if args.positional:
            words = args.positional
            found = find(specs, words)
            subs = _subcommands(specs, words)
            exact = found is not None and len(found[0].path) == len(words)
            if found is None and not subs:
                return Reply.text(f"No command '{' '.join(words)}'. Type `help`.")
            lines: list[str] = []
            if found is not None and (exact or not subs):
                spec = found[0]
                lines += [f"`{spec.usage}`", spec.summary]
                if spec.details:
                    lines.append(spec.details)
                if spec.min_role > Role.MEMBER:
                    lines.append(f"Who: {spec.min_role.label}s.")
                if spec.params:
                    lines.append("Arguments, in this order:")
                    lines.extend(describe_param(p) for p in spec.params)
                if spec.fields:
                    lines.append("Fields (fill the form, or type them inline as field=value):")
                    lines.extend(describe_field(f) for f in spec.fields)
            if subs:
                lines.append(f"`{' '.join(words).lower()}` commands:")
                lines.extend(_listed(s) for s in subs)
            return Reply.text("\n".join(lines))
        lines = ["Learning Cycles commands (`help <command>` for details):"]
        for spec in specs:
            if spec.min_role <= inv.role:
                lines.append(f"  `{spec.usage}`: {spec.summary}")
        return Reply.text("\n".join(lines))

    return CommandSpec(
        ("help",),
        "help [command]",
        "This list, or one command's fields (`help round`: the round commands).",
        help_command,
        params=(
            Param(
                "command",
                "command",
                "A command, e.g. round start",
                rest=True,
                autocomplete="command",
                example="round start",
            ),
        ),
    )

"""`help` and `help <command>`: every command, and each one's fields."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands.registry import Args, CommandSpec, Result, find
from bot.domain import FormField, Reply, Role
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


def make_help(specs: Sequence[CommandSpec]) -> CommandSpec:
    async def help_command(inv: Invocation, args: Args) -> Result:
        if args.positional:
            found = find(specs, args.positional)
            if found is None:
                return Reply.text(f"No command '{' '.join(args.positional)}'. Type `help`.")
            spec = found[0]
            lines = [f"`{spec.usage}`", spec.summary]
            if spec.details:
                lines.append(spec.details)
            if spec.min_role > Role.MEMBER:
                lines.append(f"Who: {spec.min_role.label}s.")
            if spec.fields:
                lines.append("Fields (fill the form, or type them inline as field=value):")
                lines.extend(describe_field(f) for f in spec.fields)
            return Reply.text("\n".join(lines))
        lines = ["Learning Cycles commands (`help <command>` for details):"]
        for spec in specs:
            if spec.min_role <= inv.role:
                lines.append(f"  `{spec.usage}`: {spec.summary}")
        return Reply.text("\n".join(lines))

    return CommandSpec(
        ("help",), "help [command]", "This list, or one command's fields.", help_command
    )

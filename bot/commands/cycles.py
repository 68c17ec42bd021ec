"""`cycle new`, `cycle list`."""

from __future__ import annotations

from bot.commands import forms
from bot.commands.registry import Args, CommandSpec, Result
from bot.commands.values import check_choice, check_text, parse_id
from bot.domain import FormField, Reply
from bot.domain.plural import plural
from bot.services import cycles, groups
from bot.services.context import Invocation

FIELDS = (
    FormField("name", "Name", max_length=200, hint="e.g. Frailty pathway, Northshire"),
    FormField("question", "Learning question", "long_text", max_length=1000),
    FormField("scale", "Scale", "select", options=cycles.SCALES, initial="team"),
    FormField("parent", "Parent cycle id", required=False, max_length=10, hint="optional"),
)


async def cycle_new(inv: Invocation, args: Args) -> Result:
    forms.unknown_fields(FIELDS, args)
    if forms.missing(FIELDS, args):
        return forms.ask("New learning cycle", "cycle new", FIELDS, args)
    values = forms.validate(
        args,
        {
            "name": lambda v: check_text("name", v, max_length=200),
            "question": lambda v: check_text("question", v, max_length=1000),
            "scale": lambda v: check_choice("scale", v, cycles.SCALES),
            "parent": lambda v: parse_id(v, "cycle") if v.strip() else None,
        },
    )
    settings = inv.deps.settings
    async with inv.deps.db.begin() as session:
        group = await groups.ensure_group(
            session, inv.channel, name=inv.channel.channel, timezone=settings.bot.timezone
        )
        cycle = await cycles.create_cycle(
            session,
            group,
            name=values["name"],
            question=values["question"],
            scale=values["scale"],
            parent_id=values["parent"],
            created_by=inv.member_id,
        )
        text = f"Cycle #{cycle.id} *{cycle.name}* ({cycle.scale}) created: {cycle.question}"
    return Reply.text(text, ephemeral=False)


async def cycle_list(inv: Invocation, args: Args) -> Result:
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        nodes = await cycles.cycle_tree(session, group)
    if not nodes:
        return Reply.text("No cycles yet. Create one with `cycle new`.")
    lines = ["Learning cycles (by scale, parents first):"]
    for node in nodes:
        c = node.cycle
        mark = "" if c.group_id == group.id else " (another group)"
        lines.append(
            f"{'    ' * node.depth}#{c.id} {c.name} [{c.scale}]{mark}: {c.question}"
            f" ({plural(node.experiments, 'experiment')})"
        )
    return Reply.text("\n".join(lines))


SPECS = (
    CommandSpec(
        ("cycle", "new"),
        "cycle new [name=… question=… scale=… parent=…]",
        "Create a learning cycle with its question and scale, optionally inside a parent cycle.",
        cycle_new,
        fields=FIELDS,
    ),
    CommandSpec(("cycle", "list"), "cycle list", "The tree of connected cycles.", cycle_list),
)

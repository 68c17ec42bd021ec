"""`alarms`, `alarms ack <id>`, `alarms resolve <id>`."""

from __future__ import annotations

from bot.commands.registry import Args, CommandSpec, Result
from bot.commands.values import parse_id
from bot.domain import Reply, Role
from bot.domain.params import id_param
from bot.errors import UserError
from bot.services import alarms, groups, scope
from bot.services.context import Invocation


async def alarms_list(inv: Invocation, args: Args) -> Result:
    if args.positional:
        raise UserError(
            f"Unknown alarms command '{args.positional[0]}'. "
            "Use `alarms`, `alarms ack <id>` or `alarms resolve <id>`."
        )
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        group_id, name, timezone = group.id, group.name, group.timezone
    await alarms.evaluate(inv.deps, group_id)  # on demand: the list is current
    async with inv.deps.db.begin() as session:
        rows = await alarms.open_alarms(session, group_id)
        lines = [alarms.describe(a, timezone) for a in rows]
    if not lines:
        return Reply.text(f"No open alarms in {name}.")
    return Reply.text(
        "\n".join(
            [
                f"Open alarms in {name}:",
                *lines,
                "`alarms ack <id>` acknowledges one; `alarms resolve <id>` resolves it.",
            ]
        )
    )


def _one_id(args: Args, usage: str) -> int:
    if len(args.positional) != 1:
        raise UserError(f"Usage: `{usage}`.")
    try:
        return parse_id(args.positional[0], "alarm")
    except UserError:
        raise UserError(
            f"'{args.positional[0][:40]}' is not an alarm id. Ids are digits 0-9; `alarms` "
            "lists them with their ids."
        ) from None


async def alarms_ack(inv: Invocation, args: Args) -> Result:
    alarm_id = _one_id(args, "alarms ack <id>")
    async with inv.deps.db.begin() as session:
        where = await scope.here(session, inv)
        alarm = await alarms.acknowledge(session, alarm_id, inv.member_id, inv.deps.clock(), where)
        state = alarm.state
    return Reply.text(
        f"Alarm #{alarm_id} is {state}. It stays open until its condition clears or someone "
        f"runs `alarms resolve {alarm_id}`."
    )


async def alarms_resolve(inv: Invocation, args: Args) -> Result:
    alarm_id = _one_id(args, "alarms resolve <id>")
    async with inv.deps.db.begin() as session:
        where = await scope.here(session, inv)
        await alarms.resolve(session, alarm_id, inv.member_id, inv.deps.clock(), where)
    return Reply.text(
        f"Alarm #{alarm_id} is resolved. If its condition starts again, a new alarm is raised."
    )


SPECS = (
    CommandSpec(
        ("alarms",),
        "alarms",
        "The group's open governance alarms, with their ids.",
        alarms_list,
        min_role=Role.LEADER,
        details="Rules: an experiment with no recent check-in, one running long without a "
        "conclusion, low round participation, no surprises for weeks, a cycle with no "
        "experiment, one person writing most check-ins. Thresholds are in bot.toml [alarms].",
    ),
    CommandSpec(
        ("alarms", "ack"),
        "alarms ack <id>",
        "Acknowledge an alarm: it stays open, but you have seen it.",
        alarms_ack,
        params=(id_param("alarm", "alarm"),),
        min_role=Role.FACILITATOR,
    ),
    CommandSpec(
        ("alarms", "resolve"),
        "alarms resolve <id>",
        "Resolve an alarm.",
        alarms_resolve,
        params=(id_param("alarm", "alarm"),),
        min_role=Role.FACILITATOR,
    ),
)

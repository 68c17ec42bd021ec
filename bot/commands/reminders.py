"""`round reminders [<hours before close>…|off|default]`: when a group's rounds remind those
who have not answered. Each reminder is a DM to that person alone; nobody else learns who has
not answered (facilitators can see it with `round status`)."""

from __future__ import annotations

import re

from bot.commands import forms
from bot.commands.registry import Args, CommandSpec, Result
from bot.domain import Reply, Role
from bot.domain.params import Param
from bot.domain.plural import plural
from bot.errors import UserError
from bot.services import groups
from bot.services.context import Invocation
from bot.services.rounds.reminders import MAX_REMINDERS

USAGE = "round reminders [<hours before close>…|off|default]"
_HOURS = re.compile(r"^[0-9]{1,4}h?$", re.ASCII)


def parse_hours(words: list[str], max_hours: int) -> list[int] | None:
    """`48 4` -> [48, 4]; `off` -> [] (no automatic reminder); `default` -> None."""
    lowered = [w.lower() for w in words]
    if lowered == ["off"]:
        return []
    if lowered == ["default"]:
        return None
    if len(words) > MAX_REMINDERS:
        raise UserError(f"At most {MAX_REMINDERS} reminders, e.g. `round reminders 48 4`.")
    hours = []
    for word in lowered:
        if not _HOURS.match(word) or not 1 <= int(word.removesuffix("h")) <= max_hours:
            raise UserError(
                f"'{word}' is not a number of hours before the close from 1 to {max_hours}; "
                "e.g. `round reminders 48 4`, `round reminders off` or `round reminders default`."
            )
        hours.append(int(word.removesuffix("h")))
    if len(set(hours)) != len(hours):
        raise UserError("Each reminder needs its own number of hours.")
    return sorted(hours, reverse=True)


def describe(hours: list[int] | None, default: int) -> str:
    if hours is None:
        if not default:
            return "no automatic reminder (the configured default)"
        return (
            f"one reminder {plural(default, 'hour')} before a round closes (the configured "
            "default; not in a round's first half)"
        )
    if not hours:
        return "no automatic reminder (`round remind` still nudges by hand)"
    listed = ", ".join(str(h) for h in hours[:-1]) + (" and " if len(hours) > 1 else "")
    return (
        f"a reminder {listed}{plural(hours[-1], 'hour')} before a round closes, at 20:00 the "
        "evening before when that falls in a member's night"
    )


async def round_reminders(inv: Invocation, args: Args) -> Result:
    forms.unknown_fields((), args)
    settings = inv.deps.settings
    default = settings.rounds.remind_before_hours
    if not args.positional:
        async with inv.deps.db.begin() as session:
            group = await groups.group_for_channel(session, inv.channel)
            hours = group.round_reminders if group is not None else None
        return Reply.text(f"This group's rounds send {describe(hours, default)}.")
    if inv.role < Role.FACILITATOR:
        raise UserError("Only facilitators can change the reminders; `round reminders` shows them.")
    if inv.channel.is_dm:
        raise UserError("Set reminders in your group's channel, not in a direct message.")
    chosen = parse_hours(args.positional, settings.rounds.max_duration_days * 24)
    async with inv.deps.db.begin() as session:
        group = await groups.ensure_group(
            session, inv.channel, name=inv.channel.channel, timezone=settings.bot.timezone
        )
        group.round_reminders = chosen
    return Reply.text(
        f"Rounds here now send {describe(chosen, default)}. Each goes by DM only to those who "
        "have not answered and are not away, and names nobody else.",
        ephemeral=False,
    )


SPECS = (
    CommandSpec(
        ("round", "reminders"),
        USAGE,
        "When rounds here remind those who have not answered (facilitators change it).",
        round_reminders,
        params=(
            Param(
                "hours",
                "text",
                "Hours before the close, up to three (48 4), off or default",
                rest=True,
                example="48 4",
            ),
        ),
    ),
)

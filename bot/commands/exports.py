"""`export group [csv|json] [from <date>] [to <date>]` and `export log`: the group's shareable
and facilitators-only entries as a file for its facilitators, and the record of every such
export for admins."""

from __future__ import annotations

import asyncio
import re
from datetime import date

from bot.commands import forms
from bot.commands.registry import Args, CommandSpec, Result
from bot.domain import ChannelRef, Message, Reply, Role
from bot.domain.params import Param
from bot.domain.plural import plural
from bot.errors import UserError
from bot.services import exportfiles, groups, outbox
from bot.services import group_export as svc
from bot.services.context import Invocation
from bot.services.events import claim_event
from bot.services.rounds import format_time, tz_of
from bot.store.models import Member

USAGE = "export group [csv|json] [from <YYYY-MM-DD>] [to <YYYY-MM-DD>]"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$", re.ASCII)


def _date(text: str, word: str) -> date:
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise UserError(f"'{text}' after `{word}` is not a date; write it as 2026-11-30.") from None


def parse(words: list[str]) -> tuple[str, svc.Range]:
    """`[csv|json] [from <date>] [to <date>]`, in that order, each at most once."""
    rest = [w.strip() for w in words if w.strip()]
    fmt = "csv"
    if rest and rest[0].lower() in svc.FORMATS:
        fmt = rest.pop(0).lower()
    found: dict[str, date] = {}
    while rest:
        word = rest.pop(0).lower()
        if word not in ("from", "to") or word in found or not rest:
            raise UserError(f"Use `{USAGE}`, e.g. `export group csv from 2026-11-01`.")
        found[word] = _date(rest.pop(0), word)
    span = svc.Range(found.get("from"), found.get("to"))
    if span.start and span.end and span.start > span.end:
        raise UserError("The `from` date is after the `to` date.")
    return fmt, span


async def export_group(inv: Invocation, args: Args) -> Result:
    forms.unknown_fields((), args)
    if inv.channel.is_dm:
        raise UserError("Export a group from its channel; the file comes to you by DM.")
    fmt, span = parse(args.positional)
    now = inv.deps.clock()
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        rows = await svc.rows_for(session, group, span)
        name = group.name
    data_dir = inv.deps.settings.bot.data_dir
    await exportfiles.expire_exports(data_dir, now)
    user = inv.actor.user_id
    path = exportfiles.export_path(data_dir, str(inv.actor.platform), user, now).with_suffix(
        f".{fmt}"
    )
    # Off the event loop: a big group's file takes a while to write, and others are waiting.
    if fmt == "csv":
        content = await asyncio.to_thread(svc.csv_bytes, rows)
    else:
        content = await asyncio.to_thread(svc.json_bytes, name, span, rows, now)
    await svc.write(path, content)
    count = plural(len(rows), "entry", "entries")
    to = ChannelRef(inv.channel.platform, inv.channel.workspace, user, dm_user=user)
    text = (
        f"The export of *{name}* ({span.words()}): {count} shared with the group"
        f" or its facilitators, as {fmt.upper()}; private entries are never in it. "
        "Authors who did not choose to be named carry labels made for this file only. The "
        "bot deletes its copy within an hour."
    )
    async with inv.deps.db.begin() as session:
        if inv.source_key is not None and not await claim_event(
            session, str(inv.channel.platform), inv.source_key
        ):
            return Reply.text("That request was already handled.")
        group = await groups.require_group(session, inv.channel)
        record = await svc.log_export(session, group, inv.member_id, fmt, span, len(rows), now)
        await outbox.enqueue(
            session,
            key=f"export:{record.id}",
            to=to,
            message=Message(text, attachments=(str(path),)),
            member_id=inv.member_id,
            now=now,
        )
    inv.deps.notify_outbox()
    return Reply.text(
        f"The export ({count}, {span.words()}, {fmt.upper()}) is on its way to you by "
        "direct message. Every export is logged for admins (`export log`)."
    )


async def export_log(inv: Invocation, args: Args) -> Result:
    forms.unknown_fields((), args)
    if args.positional:
        raise UserError("Use `export log`.")
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        found = await svc.export_log(session, group)
        reader = await session.get_one(Member, inv.member_id)
        timezone = tz_of(reader, group)
    if not found:
        return Reply.text("Nobody has exported this group's entries.")
    lines = [f"Exports of this group's entries, newest first ({plural(len(found), 'export')}):"]
    for record, who in found:
        span = svc.Range(record.date_from, record.date_to)
        lines.append(
            f"• {format_time(record.created_at, timezone)}: {who or 'a member since forgotten'}, "
            f"{record.format.upper()}, {span.words()}, {plural(record.entries, 'entry', 'entries')}"
        )
    return Reply.text("\n".join(lines))


SPECS = (
    CommandSpec(
        ("export", "group"),
        USAGE,
        "The group's entries you may read, as a CSV or JSON file by direct message.",
        export_group,
        params=(
            Param(
                "format", "choice", "csv (the default) or json", options=svc.FORMATS, example="csv"
            ),
            Param("from", "text", "The first day, YYYY-MM-DD", prefix="from", example="2026-11-01"),
            Param("to", "text", "The last day, YYYY-MM-DD", prefix="to", example="2026-11-30"),
        ),
        min_role=Role.FACILITATOR,
        details="Group and facilitators-only check-ins and answers, never private ones; "
        "anonymous authors get labels made for that file only. The README lists the columns.",
    ),
    CommandSpec(
        ("export", "log"),
        "export log",
        "Who exported this group's entries, when, and which dates.",
        export_log,
        min_role=Role.ADMIN,
    ),
)

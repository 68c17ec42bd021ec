"""`round schedule|unschedule`, `timezone` and `away`: when scheduled work reaches people."""

from __future__ import annotations

import zoneinfo
from datetime import datetime

from bot.commands import forms
from bot.commands.registry import Args, CommandSpec, Result
from bot.domain import Reply, Role, cron
from bot.domain.params import Param
from bot.domain.plural import plural
from bot.errors import UserError
from bot.services import groups, schedules
from bot.services import rounds as svc
from bot.services.context import Invocation
from bot.store.models import Group, Member

SCHEDULE_USAGE = "round schedule <minute hour day month weekday> [template] [for <duration>]"
EXAMPLE = "`round schedule 0 9 * * mon weekly-reflection for 3d`"
MAX_SCHEDULE = 64  # Group.round_schedule


def _when(moment: datetime | None, timezone: str) -> str:
    if moment is None:
        return "never"
    return moment.astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%a %d %b %Y %H:%M")


def _next_local(expression: str, timezone: str, now: datetime) -> str:
    """When a round schedule next reaches someone in `timezone` (it is their wall-clock time)."""
    return _when(cron.next_after(cron.parse(expression, timezone), now), timezone)


def _parse_schedule(words: list[str]) -> tuple[str, str | None, str | None]:
    """`<5 cron fields> [template] [for <duration>]` -> (cron, template, duration text)."""
    if len(words) < 5:
        raise UserError(
            f"A round schedule is five cron fields: minute hour day month weekday, e.g. {EXAMPLE}."
        )
    expression = " ".join(words[:5])
    rest = words[5:]
    lowered = [w.lower() for w in rest]
    duration: str | None = None
    if "for" in lowered:
        at = lowered.index("for")
        rest, duration = rest[:at], " ".join(rest[at + 1 :])
        if not duration:
            raise UserError("Say how long after `for`, e.g. `for 3d`.")
    if len(rest) > 1:
        raise UserError(f"Name one template after the five cron fields, e.g. {EXAMPLE}.")
    return expression, (rest[0] if rest else None), duration


async def round_schedule(inv: Invocation, args: Args) -> Result:
    forms.unknown_fields((), args)
    settings = inv.deps.settings
    now = inv.deps.clock()
    if not args.positional:
        async with inv.deps.db.begin() as session:
            group = await groups.require_group(session, inv.channel)
            current, template_key = group.round_schedule, group.round_schedule_template
            member = await session.get_one(Member, inv.member_id)
            timezone = svc.tz_of(member, group)
        if not current:
            return Reply.text(
                f"No rounds are scheduled here. A facilitator sets them with `{SCHEDULE_USAGE}`."
            )
        expression, open_for = schedules.split_round_schedule(current)
        return Reply.text(
            f"Rounds start on `{expression}` in each member's own timezone (template "
            f"{template_key or settings.rounds.default_template}, open "
            f"{'for ' + open_for if open_for else 'for its usual time'}). Your next one: "
            f"{_next_local(expression, timezone, now)} ({timezone})."
        )
    inv.require(Role.FACILITATOR, "schedule rounds")
    if inv.channel.is_dm:
        raise UserError("Schedule rounds in your group's channel, not in a direct message.")
    if len(" ".join(args.positional)) > MAX_SCHEDULE + 40:  # too long to echo back, or to store
        raise UserError("That schedule is too long; write the cron fields more simply.")
    expression, name, duration_text = _parse_schedule(args.positional)
    try:
        cron.check(expression, "UTC", now)  # the scheduler's parser: accepted means it runs
    except ValueError as exc:
        reason = str(exc)[:1].lower() + str(exc)[1:]
        raise UserError(
            f"'{expression}' is not a valid schedule ({reason}). Example: {EXAMPLE}."
        ) from None
    async with inv.deps.db.begin() as session:
        template = await svc.template_here(
            session, inv.channel, inv.deps.templates, name or settings.rounds.default_template
        )
    duration = svc.round_duration(duration_text, template, settings)
    stored = schedules.join_round_schedule(expression, duration_text)
    if len(stored) > MAX_SCHEDULE:
        raise UserError("That schedule is too long; write the cron fields more simply.")
    async with inv.deps.db.begin() as session:
        group = await groups.ensure_group(
            session, inv.channel, name=inv.channel.channel, timezone=settings.bot.timezone
        )
        group.round_schedule = stored
        group.round_schedule_template = template.key
        member = await session.get_one(Member, inv.member_id)
        timezone = svc.tz_of(member, group)
    hours = duration.total_seconds() / 3600
    length = plural(hours / 24, "day") if hours >= 24 else plural(hours, "hour")
    return Reply.text(
        f"Rounds of *{template.title}* now start on `{expression}`, at that time in each "
        f"member's own timezone, and stay open {length} after the last member's start. "
        f"Your next one: {_next_local(expression, timezone, now)} ({timezone}). Members can "
        "set their timezone with `timezone <name>` and pause prompts with `away until <date>`.",
        ephemeral=False,
    )


async def round_unschedule(inv: Invocation, args: Args) -> Result:
    if args.positional or args.fields:
        raise UserError("Use `round unschedule`.")
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        had = group.round_schedule
        group.round_schedule = None
        group.round_schedule_template = None
    if not had:
        return Reply.text("No rounds were scheduled here; nothing changed.")
    return Reply.text(
        "Scheduled rounds are off here. Rounds already open stay open until they close.",
        ephemeral=False,
    )


# IANA names are far shorter; a longer one would be looked up as a file name and fail there.
MAX_TIMEZONE_LENGTH = 64


async def timezone_command(inv: Invocation, args: Args) -> Result:
    forms.unknown_fields((), args)
    words = args.positional
    if len(words) > 1:
        raise UserError("Use `timezone <name>`, e.g. `timezone Europe/London`.")
    async with inv.deps.db.begin() as session:
        member = await session.get_one(Member, inv.member_id)
        group = await groups.group_for_channel(session, inv.channel)
        fallback = group.timezone if group else inv.deps.settings.bot.timezone
        if not words:
            shown = member.timezone or fallback
            source = "set" if member.timezone else "the group's default"
            return Reply.text(
                f"Your timezone is {shown} ({source}). Scheduled rounds reach you at their time "
                "there. Change it with `timezone <name>`, or `timezone auto` to follow your "
                "profile."
            )
        if words[0].lower() == "auto":
            chosen = inv.actor.timezone
            member.timezone = chosen
            return Reply.text(
                f"Your timezone now follows your profile: {chosen}."
                if chosen
                else f"Your profile has no timezone, so {fallback} applies."
            )
        if len(words[0]) > MAX_TIMEZONE_LENGTH:
            raise UserError(
                f"A timezone name is at most {MAX_TIMEZONE_LENGTH} characters, "
                "like Europe/London or America/New_York."
            )
        chosen = schedules.check_timezone(words[0])
        member.timezone = chosen
    local = _when(inv.deps.clock(), chosen)
    return Reply.text(
        f"Your timezone is now {chosen} (it is {local} there). Scheduled rounds reach you at "
        "their time in this timezone."
    )


async def away_command(inv: Invocation, args: Args) -> Result:
    forms.unknown_fields((), args)
    words = [w.lower() for w in args.positional]
    async with inv.deps.db.begin() as session:
        member = await session.get_one(Member, inv.member_id)
        group: Group | None = await groups.group_for_channel(session, inv.channel)
        tz = svc.zone(member.timezone, group.timezone if group else inv.deps.settings.bot.timezone)
        today = inv.deps.clock().astimezone(tz).date()
        if not words:
            if svc.is_away(member, today):
                assert member.away_until is not None
                return Reply.text(
                    f"You are away until {member.away_until.isoformat()}: no round prompts or "
                    "reminders until then. `away off` ends it."
                )
            return Reply.text(
                "You are not away. `away until <YYYY-MM-DD>` pauses round prompts and reminders."
            )
        if words == ["off"]:
            was = svc.is_away(member, today)
            member.away_until = None
            return Reply.text(
                "Welcome back: round prompts and reminders reach you again."
                if was
                else "You were not away; nothing changed."
            )
        if len(words) < 2 or words[0] not in ("until", "for"):
            raise UserError("Use `away until <YYYY-MM-DD>`, `away for <duration>` or `away off`.")
        until = schedules.away_until(" ".join(args.positional[1:]), today)
        member.away_until = until
    return Reply.text(
        f"You are away until {until.isoformat()} (inclusive): no round prompts or reminders "
        "until then, and rounds opening meanwhile do not count you. Your answers to rounds "
        "already open are still welcome. `away off` ends it early."
    )


SPECS = (
    CommandSpec(
        ("round", "schedule"),
        SCHEDULE_USAGE,
        "Start rounds on a schedule, at that time in each member's own timezone.",
        round_schedule,
        params=(
            Param(
                "schedule",
                "cron",
                "Five cron fields, then a template and for <duration> if wanted",
                rest=True,
                example="0 9 * * mon weekly-reflection for 3d",
            ),
        ),
        details="Five cron fields: minute hour day month weekday (0 or sun = Sunday). "
        f"Example: {EXAMPLE}. With no arguments it shows the schedule; facilitators set it.",
    ),
    CommandSpec(
        ("round", "unschedule"),
        "round unschedule",
        "Stop starting rounds on a schedule here.",
        round_unschedule,
        min_role=Role.FACILITATOR,
    ),
    CommandSpec(
        ("timezone",),
        "timezone [<name>|auto]",
        "Your timezone for scheduled rounds (default: your profile's).",
        timezone_command,
        params=(
            Param(
                "zone",
                "text",
                "An IANA name such as Europe/London, or auto",
                example="Europe/London",
            ),
        ),
        details="An IANA name such as Europe/London or America/New_York; `auto` follows your "
        "platform profile again.",
    ),
    CommandSpec(
        ("away",),
        "away [until <date>|for <duration>|off]",
        "Pause round prompts and reminders while you are away.",
        away_command,
        params=(
            Param(
                "when",
                "text",
                "until <date>, for <duration> or off",
                rest=True,
                example="for 2w",
            ),
        ),
        details="`away until 2026-12-24` (inclusive) or `away for 2w`; `away off` ends it.",
    ),
)

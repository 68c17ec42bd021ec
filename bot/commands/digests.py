"""`digest preview|now|schedule|show|sources`."""

from __future__ import annotations

import zoneinfo

from bot.commands.digest_talk import edits_note
from bot.commands.registry import Args, CommandSpec, Result
from bot.domain import Message, Reply, Role, cron
from bot.domain.params import Param
from bot.errors import UserError
from bot.services import groups
from bot.services.context import Invocation
from bot.services.digests import sources
from bot.services.digests.build import build_digest
from bot.services.digests.isoweek import iso_week, parse_week
from bot.services.digests.publish import publish_week
from bot.services.digests.stored import POSTED, latest_posted
from bot.services.digests.variants import GROUP, LEADER

MAX_SCHEDULE = 64  # Group.digest_schedule
USAGE = (
    "Digests: `digest preview [leader]`, `digest now`, `digest schedule <cron>`, "
    "`digest show [week]`, `digest sources <theme>`, `digest edit`, "
    "`digest respond <theme> agree|differ`, `digest history`."
)


def _message(digest_content: dict[str, object], note: str) -> Message:
    message = Message.from_json(dict(digest_content))
    return Message(
        f"{note}\n\n{message.text}" if note else message.text,
        message.sections,
        message.buttons,
        message.attachments,
    )


async def digest_preview(inv: Invocation, args: Args) -> Result:
    words = [w.lower() for w in args.positional]
    if words not in ([], [LEADER]):
        raise UserError("Usage: `digest preview` or `digest preview leader`.")
    variant = LEADER if words else GROUP
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        week = iso_week(inv.deps.clock(), group.timezone)
        digest = await build_digest(inv.deps, session, group, week, variant)
        posted = digest.state == POSTED
        content = digest.content
        curated = edits_note(digest) if variant == GROUP else ""
    note = (
        f"This week's digest ({week}) was already posted; this is what went out."
        if posted
        else f"Preview of the {variant} digest for {week}, only you can see it. "
        "`digest now` posts it to the group."
    )
    return Reply(_message(content, f"{note} {curated}" if curated else note), ephemeral=True)


async def digest_now(inv: Invocation, args: Args) -> Result:
    if args.positional:
        raise UserError("Usage: `digest now`.")
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        week = iso_week(inv.deps.clock(), group.timezone)
        _digest, first_time = await publish_week(inv.deps, session, group, week)
        channels = len(group.channels)
    inv.deps.notify_outbox()
    if not first_time:
        return Reply.text(
            f"This week's digest ({week}) was already posted; it goes out once a week. "
            "`digest show` shows it."
        )
    where = "1 channel" if channels == 1 else f"{channels} channels"
    return Reply.text(f"Posting this week's digest ({week}) to {where}.")


async def digest_schedule(inv: Invocation, args: Args) -> Result:
    expression = " ".join(args.positional).strip()
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        if not expression:
            current = group.digest_schedule or inv.deps.settings.digest.schedule
            return Reply.text(
                f"The digest goes out on `{current}` ({group.timezone}). "
                "Change it with `digest schedule <minute hour day month weekday>`."
            )
        if len(expression) > MAX_SCHEDULE:  # too long to echo back, or to store
            raise UserError(
                f"That schedule is longer than {MAX_SCHEDULE} characters. Use five cron fields, "
                "e.g. `digest schedule 0 16 * * fri`."
            )
        if len(expression.split()) != 5:
            raise UserError(
                f"'{expression}' is not a five-field cron expression. Use minute hour day month "
                "weekday, e.g. `digest schedule 0 16 * * fri`."
            )
        try:
            # The scheduler's own parser and limits: a schedule accepted here runs.
            trigger = cron.check(expression, group.timezone, inv.deps.clock())
        except ValueError as exc:
            reason = str(exc)[:1].lower() + str(exc)[1:]
            raise UserError(
                f"'{expression}' is not a valid schedule ({reason}). "
                "Example: `digest schedule 0 16 * * fri`."
            ) from None
        group.digest_schedule = expression
        timezone = group.timezone
    upcoming = trigger.get_next_fire_time(None, inv.deps.clock())
    when = (
        upcoming.astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%a %d %b %Y %H:%M")
        if upcoming is not None
        else "never"
    )
    return Reply.text(
        f"The weekly digest now goes out on `{expression}` ({timezone}). Next: {when}."
    )


async def digest_show(inv: Invocation, args: Args) -> Result:
    if len(args.positional) > 1:
        raise UserError("Usage: `digest show [week]`, e.g. `digest show 2026-W48`.")
    if args.positional and not args.positional[0].isascii():
        raise UserError(
            f"'{args.positional[0][:40]}' is not a week. Use an ISO week such as 2026-W48."
        )
    week = parse_week(args.positional[0]) if args.positional else None
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        digest = await latest_posted(session, group.id, week)
        content = digest.content if digest is not None else None
        # What facilitators changed before posting, kept with the digest, shown to them.
        curated = edits_note(digest) if digest and inv.role >= Role.FACILITATOR else ""
    if content is None:
        return Reply.text(
            f"No digest was posted for {week}." if week else "No digest has been posted yet."
        )
    return Reply(_message(content, curated), ephemeral=True)


async def digest_sources(inv: Invocation, args: Args) -> Result:
    wanted = " ".join(args.positional).strip()
    if not wanted:
        raise UserError("Usage: `digest sources <theme>`, a theme's label or number.")
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        week = iso_week(inv.deps.clock(), group.timezone)
        found = await sources.theme_sources(session, group.id, week, wanted)
    return Reply.text(sources.describe(found))


async def digest_help(inv: Invocation, args: Args) -> Result:
    if args.positional:
        raise UserError(f"Unknown digest command '{args.positional[0]}'. {USAGE}")
    return Reply.text(USAGE)


SPECS = (
    CommandSpec(
        ("digest", "preview"),
        "digest preview [leader]",
        "This week's digest (or its leader variant), shown only to you before it is posted.",
        digest_preview,
        params=(Param("leader", "flag", "The leader digest instead", example="leader"),),
        min_role=Role.LEADER,
    ),
    CommandSpec(
        ("digest", "now"),
        "digest now",
        "Post this week's digest to the group's channels now.",
        digest_now,
        min_role=Role.FACILITATOR,
        details="It is posted once per week: running it again changes nothing.",
    ),
    CommandSpec(
        ("digest", "schedule"),
        "digest schedule <cron>",
        "When the weekly digest goes out: five cron fields in the group's timezone.",
        digest_schedule,
        params=(
            Param(
                "cron",
                "cron",
                "Five-field cron, e.g. 0 16 * * fri",
                required=True,
                rest=True,
                example="0 16 * * fri",
            ),
        ),
        min_role=Role.FACILITATOR,
        details="Example: `digest schedule 0 16 * * fri` (Fridays at 16:00).",
    ),
    CommandSpec(
        ("digest", "show"),
        "digest show [week]",
        "The latest posted digest, or the one for a week such as 2026-W48.",
        digest_show,
        params=(
            Param(
                "week",
                "text",
                "An ISO week such as 2026-W48 (default: the latest)",
                example="2026-W48",
            ),
        ),
    ),
    CommandSpec(
        ("digest", "sources"),
        "digest sources <theme>",
        "The entries a theme of the digest draws on, by its label or number.",
        digest_sources,
        params=(
            Param(
                "theme",
                "text",
                "A theme's label or its number in the digest",
                required=True,
                rest=True,
                example="1",
            ),
        ),
    ),
    CommandSpec(("digest",), "digest <command>", "The weekly digest commands.", digest_help),
)

"""What the scheduler runs for each group, and the personal settings scheduled work honours.

`publish_digest` and `open_scheduled_rounds` are whole use cases (they open their own
transactions, like a command handler does). Both are idempotent: a digest is unique per group and
week, a scheduled round per group and slot, so a job that runs twice (a takeover, a catch-up
after a restart) changes nothing the second time.

A round schedule is a cron expression read as wall-clock time in each member's own timezone:
"0 9 * * mon" reaches everyone at 09:00 on Monday where they are. The scheduler fires it at the
earliest place on Earth (UTC+14); the round opens then, and each member's prompt waits in the
outbox until that wall-clock time in their timezone (their platform profile's, or the one they
set with `timezone`)."""

from __future__ import annotations

import logging
import zoneinfo
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import ChannelRef, MemberInfo, Platform
from bot.domain.durations import parse_duration
from bot.errors import UserError
from bot.logs import log_failure
from bot.services import alarms, members, rounds
from bot.services.context import Deps
from bot.services.digests.isoweek import iso_week
from bot.services.digests.publish import publish_week
from bot.services.templates import templates_for
from bot.store.models import Digest, Group, Member, Round, RoundRecipient

log = logging.getLogger(__name__)

# UTC+14 (Kiribati's Line Islands) is the first place to reach any wall-clock time.
EARLIEST_ZONE = "Etc/GMT-14"
_FOR = " for "
MAX_AWAY_DAYS = 366


# --- round schedules: "<cron>[ for <duration>]" in Group.round_schedule ------------------------


def split_round_schedule(value: str) -> tuple[str, str | None]:
    """'0 9 * * mon for 3d' -> ('0 9 * * mon', '3d'); no duration -> the template's."""
    expression, _, duration = value.partition(_FOR)
    return expression.strip(), (duration.strip() or None)


def join_round_schedule(expression: str, duration: str | None) -> str:
    return f"{expression}{_FOR}{duration}" if duration else expression


def slot_of(fired_at: datetime) -> datetime:
    """The wall-clock time a round-schedule fire stands for (naive: it is local everywhere)."""
    return fired_at.astimezone(zoneinfo.ZoneInfo(EARLIEST_ZONE)).replace(tzinfo=None)


def slot_key(slot: datetime, group_channel_id: int) -> str:
    return f"{slot:%Y-%m-%dT%H:%M}/{group_channel_id}"


# --- scheduled jobs ------------------------------------------------------------------------


async def publish_digest(deps: Deps, group_id: int, fired_at: datetime) -> Digest | None:
    """The weekly digest job: the week the cron fire falls in (in the group's timezone), built
    and published once; alarms are evaluated first so the digest shows current ones."""
    try:
        await alarms.evaluate(deps, group_id)
    except Exception as exc:
        log_failure(log, f"alarm evaluation before the digest failed for group {group_id}", exc)
    async with deps.db.begin() as session:
        group = await session.get(Group, group_id)
        if group is None:
            return None
        week = iso_week(fired_at, group.timezone)
        digest, first_time = await publish_week(deps, session, group, week)
    if first_time:
        log.info("digest %s for group %s published", week, group_id)
    deps.notify_outbox()
    return digest


async def open_scheduled_rounds(
    deps: Deps, group_id: int, fired_at: datetime
) -> list[rounds.Started]:
    """The round-schedule job: one round per channel bound to the group for this slot, each
    member's prompt due at the slot's wall-clock time in their own timezone."""
    slot = slot_of(fired_at)
    async with deps.db.begin() as session:
        group = await session.get(Group, group_id)
        if group is None or not group.round_schedule:
            return []
        _, duration_text = split_round_schedule(group.round_schedule)
        template_key = group.round_schedule_template or deps.settings.rounds.default_template
        places = [
            (gc.id, ChannelRef(Platform(gc.platform), gc.workspace, gc.channel))
            for gc in group.channels
        ]
        opened = await _opened_slots(session, group_id, [slot_key(slot, gc) for gc, _ in places])
        known = await templates_for(session, group_id, deps.templates)
    try:
        template = rounds.resolve_template(known, template_key)
        duration = rounds.round_duration(duration_text, template, deps.settings)
    except UserError as exc:
        log.error("group %s: the round schedule cannot start a round: %s", group_id, exc)
        return []
    started: list[rounds.Started] = []
    for gc_id, channel in places:
        key = slot_key(slot, gc_id)
        if key in opened:
            continue
        # The platform call comes first: a transaction is never held open across the network.
        infos = await _audience(deps, channel)
        if infos is None:
            continue
        async with deps.db.begin() as session:
            group = await session.get_one(Group, group_id)
            audience = await members.ensure_members(
                session, channel.platform, channel.workspace, infos
            )
            result = await rounds.start_scheduled_round(
                session,
                group=group,
                channel=channel,
                template=template,
                duration=duration,
                audience=audience,
                slot=slot,
                slot_key=key,
                now=deps.clock(),
            )
        if result is not None:
            log.info(
                "scheduled round %s opened in group %s for %d members",
                result.round.id,
                group_id,
                result.recipients,
            )
            started.append(result)
    if started:
        deps.notify_outbox()
    return started


async def _opened_slots(session: AsyncSession, group_id: int, keys: list[str]) -> set[str]:
    if not keys:
        return set()
    query = select(Round.schedule_slot).where(
        Round.group_id == group_id, Round.schedule_slot.in_(keys)
    )
    return {slot for slot in (await session.execute(query)).scalars() if slot}


async def _audience(deps: Deps, channel: ChannelRef) -> list[MemberInfo] | None:
    """The channel's members from the platform; when the platform cannot say (an outage, or a
    Discord server on a shard another process runs), the audience of the channel's last round."""
    adapter = deps.adapters.get(channel.platform)
    if adapter is None:
        log.warning("no %s adapter here: scheduled round skipped in one channel", channel.platform)
        return None
    try:
        found = await adapter.channel_members(channel)
    except Exception as exc:  # the type only: never a payload
        reason = type(exc).__name__
        log.error("could not list the members of a %s channel: %s", channel.platform, reason)
        found = []
    if found:
        return found
    async with deps.db.begin() as session:
        previous = await _last_audience(session, channel)
    if previous:
        log.info("scheduled round: using the last round's %d members", len(previous))
    return previous


async def _last_audience(session: AsyncSession, channel: ChannelRef) -> list[MemberInfo]:
    last = (
        select(Round.id)
        .where(
            Round.platform == str(channel.platform),
            Round.workspace == channel.workspace,
            Round.channel == channel.channel,
        )
        .order_by(Round.opened_at.desc(), Round.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(Member)
        .join(RoundRecipient, RoundRecipient.member_id == Member.id)
        .where(RoundRecipient.round_id == last)
        .order_by(Member.id)
    )
    return [
        MemberInfo(m.user_id, m.display_name, m.timezone)
        for m in (await session.execute(query)).scalars()
    ]


# --- personal settings ---------------------------------------------------------------------


def check_timezone(text: str) -> str:
    """An IANA timezone name, as the person typed it or case-corrected; UserError otherwise."""
    cleaned = text.strip()
    try:
        return zoneinfo.ZoneInfo(cleaned).key
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    lowered = cleaned.lower()
    for name in zoneinfo.available_timezones():
        if name.lower() == lowered:
            return name
    raise UserError(
        f"'{cleaned[:60]}' is not a timezone. Use an IANA name such as Europe/London, "
        "America/New_York or Asia/Kolkata."
    )


def away_until(text: str, today: date) -> date:
    """`2026-12-24` or a duration such as `2w` (counted from today) -> the last day away."""
    cleaned = text.strip()
    try:
        until = date.fromisoformat(cleaned)
    except ValueError:
        try:
            until = today + timedelta(days=max(parse_duration(cleaned).days, 1))
        except UserError:
            raise UserError(
                f"'{cleaned[:40]}' is not a date. Use YYYY-MM-DD, e.g. `away until "
                f"{(today + timedelta(days=14)).isoformat()}`."
            ) from None
    if until < today:
        raise UserError(f"{until.isoformat()} has already passed.")
    if until > today + timedelta(days=MAX_AWAY_DAYS):
        raise UserError("You can be away for at most a year at a time.")
    return until

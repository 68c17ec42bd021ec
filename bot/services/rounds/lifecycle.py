"""A round's life: starting it (by a person or a schedule slot) with one prompt DM queued per
recipient, closing it, and posting the summary of what members chose to share.

`close_due_rounds` is a whole use case for the scheduler: it opens its own transactions."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain import ChannelRef, Message, Platform
from bot.domain.durations import parse_duration
from bot.domain.plural import plural
from bot.errors import UserError
from bot.services import outbox
from bot.services.context import Deps
from bot.services.groups import group_for_channel
from bot.services.rounds.messages import dm_to, message_text, prompt_message, summary_message
from bot.services.rounds.queries import (
    CLOSED,
    OPEN,
    get_round,
    open_round_with_template,
    progress,
    shared_entries,
)
from bot.services.rounds.tallies import round_tallies
from bot.services.rounds.times import format_time, is_away, tz_of, zone
from bot.services.templates import RoundTemplateSpec, templates_for
from bot.store.models import Group, Member, Round, RoundRecipient
from bot.store.upsert import insert_ignore
from bot.summarise import Entry, Summariser, Summary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Started:
    round: Round
    recipients: int
    skipped_away: int


def resolve_template(templates: Mapping[str, RoundTemplateSpec], name: str) -> RoundTemplateSpec:
    """A template by key, or by an unambiguous beginning of one ('weekly')."""
    wanted = name.strip().lower()
    if wanted in templates:
        return templates[wanted]
    matches = [key for key in templates if key.startswith(wanted)] if wanted else []
    if len(matches) == 1:
        return templates[matches[0]]
    known = ", ".join(sorted(templates)) or "none"
    raise UserError(f"There is no round template '{name}'. Templates: {known}.")


async def template_here(
    session: AsyncSession,
    channel: ChannelRef,
    shipped: Mapping[str, RoundTemplateSpec],
    name: str,
) -> RoundTemplateSpec:
    """A template as the channel's group sees it: its own first, then the shipped ones."""
    group = None if channel.is_dm else await group_for_channel(session, channel)
    merged = await templates_for(session, group.id if group is not None else None, shipped)
    return resolve_template(merged, name)


def round_duration(text: str | None, template: RoundTemplateSpec, settings: Settings) -> timedelta:
    duration = parse_duration(text if text is not None else template.default_duration)
    limit = settings.rounds.max_duration_days
    if duration > timedelta(days=limit):
        raise UserError(f"A round can stay open at most {plural(limit, 'day')}.")
    return duration


async def lock_group(session: AsyncSession, group: Group) -> None:
    """Serialise round starts in one group on PostgreSQL (SQLite serialises writers anyway)."""
    await session.execute(select(Group.id).where(Group.id == group.id).with_for_update())


async def start_round(
    session: AsyncSession,
    *,
    group: Group,
    channel: ChannelRef,
    template: RoundTemplateSpec,
    duration: timedelta,
    opened_by: Member,
    audience: Sequence[Member],
    now: datetime,
) -> Started:
    """Open a round for `audience` (plus whoever opens it) and queue one DM per recipient."""
    await lock_group(session, group)
    existing = await open_round_with_template(session, group, template.key)
    if existing is not None:
        raise UserError(
            f"Round #{existing.id} ({existing.title}) is already open here until "
            f"{format_time(existing.closes_at, group.timezone)}. See `round status {existing.id}`"
            f" or close it with `round close {existing.id}` first."
        )
    today = now.astimezone(zone(group.timezone)).date()
    everyone = {m.id: m for m in [*audience, opened_by]}
    recipients = [m for m in everyone.values() if not is_away(m, today)]
    if not recipients:
        raise UserError("Everyone in this channel is away, so there is nobody to ask.")
    round_ = Round(
        group_id=group.id,
        template_key=template.key,
        title=template.title,
        intro=template.intro,
        prompts=[p.snapshot() for p in template.prompts],
        default_visibility=template.default_visibility,
        platform=str(channel.platform),
        workspace=channel.workspace,
        channel=channel.channel,
        opened_by=opened_by.id,
        opened_at=now,
        closes_at=now + duration,
        state=OPEN,
    )
    session.add(round_)
    await session.flush()
    await _invite(session, round_, group, recipients, now)
    await session.flush()
    return Started(round_, len(recipients), len(everyone) - len(recipients))


async def start_scheduled_round(
    session: AsyncSession,
    *,
    group: Group,
    channel: ChannelRef,
    template: RoundTemplateSpec,
    duration: timedelta,
    audience: Sequence[Member],
    slot: datetime,
    slot_key: str,
    now: datetime,
) -> Started | None:
    """Open the round of one schedule slot in one channel. `slot` is a wall-clock time (naive):
    each member's prompt waits in the outbox until it is that time in their own timezone, and
    a member away on that day is not asked. The round stays open `duration` after the last
    member's start. None when the slot was opened already (a repeated or concurrent run) or
    everyone is away."""
    await lock_group(session, group)
    starts = {m.id: slot.replace(tzinfo=zone(m.timezone, group.timezone)) for m in audience}
    recipients = [m for m in audience if not is_away(m, starts[m.id].date())]
    if not recipients:
        return None
    latest = max(max(starts[m.id] for m in recipients), now)
    values = {
        "group_id": group.id,
        "template_key": template.key,
        "title": template.title,
        "intro": template.intro,
        "prompts": [p.snapshot() for p in template.prompts],
        "default_visibility": template.default_visibility,
        "platform": str(channel.platform),
        "workspace": channel.workspace,
        "channel": channel.channel,
        "opened_by": None,
        "opened_at": now,
        "closes_at": latest + duration,
        "state": OPEN,
        "schedule_slot": slot_key,
    }
    if not await insert_ignore(session, Round, values, ["group_id", "schedule_slot"]):
        return None
    query = select(Round).where(Round.group_id == group.id, Round.schedule_slot == slot_key)
    round_ = (await session.execute(query)).scalar_one()
    await _invite(session, round_, group, recipients, now, starts)
    await session.flush()
    return Started(round_, len(recipients), len(audience) - len(recipients))


async def mark_closed(session: AsyncSession, round_id: int, now: datetime) -> bool:
    """Close the round; False when it was closed already (by a person or the scheduler)."""
    result: Any = await session.execute(
        update(Round)
        .where(Round.id == round_id, Round.state == OPEN)
        .values(state=CLOSED, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def summarise(
    summariser: Summariser, entries: Sequence[Entry], settings: Settings
) -> Summary:
    return await summariser.summarise(
        entries,
        max_themes=settings.digest.max_themes,
        max_quotes=settings.digest.max_quotes_per_theme,
    )


async def finish_round(deps: Deps, round_id: int) -> Message | None:
    """Summarise a closed round and post the summary in its channel (once). The summariser
    (maybe a slow model) runs outside any transaction: the round is already closed, so its
    answers can no longer change. None when another worker finished it first."""
    async with deps.db.begin() as session:
        round_ = await get_round(session, round_id)
        if round_.state != CLOSED or round_.summary is not None:
            return None
        entries = await shared_entries(session, round_id)
        counts = await progress(session, round_id)
        counted = await round_tallies(session, round_)
    summary = await summarise(deps.summariser, entries, deps.settings)
    message = summary_message(round_, summary, counts, counted)
    async with deps.db.begin() as session:
        stored: Any = await session.execute(
            update(Round)
            .where(Round.id == round_id, Round.summary.is_(None))
            .values(summary=message_text(message))
            .execution_options(synchronize_session=False)
        )
        if not stored.rowcount:
            return None
        await outbox.enqueue(
            session,
            key=f"round:{round_id}:summary",
            to=ChannelRef(Platform(round_.platform), round_.workspace, round_.channel),
            message=message,
            round_id=round_id,
            now=deps.clock(),
        )
    deps.notify_outbox()
    return message


async def close_due_rounds(deps: Deps) -> int:
    """Close every open round past its closing time and post the summaries; returns how many
    closed. Closed rounds whose summary is still missing (a crash, a summariser failure) are
    finished too."""
    now = deps.clock()
    async with deps.db.begin() as session:
        due = list(
            (
                await session.execute(
                    select(Round.id).where(Round.state == OPEN, Round.closes_at <= now)
                )
            ).scalars()
        )
        closed = [rid for rid in due if await mark_closed(session, rid, now)]
        unfinished = list(
            (
                await session.execute(
                    select(Round.id).where(Round.state == CLOSED, Round.summary.is_(None))
                )
            ).scalars()
        )
    for round_id in sorted(set(closed) | set(unfinished)):
        try:
            await finish_round(deps, round_id)
        except Exception as exc:  # one round's summary must not hold up the others
            log.error("summary of round %s failed: %s", round_id, type(exc).__name__)
    return len(closed)


async def _invite(
    session: AsyncSession,
    round_: Round,
    group: Group,
    recipients: Sequence[Member],
    now: datetime,
    starts: Mapping[int, datetime] | None = None,
) -> None:
    """Record each recipient and queue their prompt, keyed so a repeat queues nothing; `starts`
    holds a scheduled round's prompts back until each member's local start time."""
    for member in recipients:
        session.add(RoundRecipient(round_id=round_.id, member_id=member.id))
        await outbox.enqueue(
            session,
            key=f"round:{round_.id}:prompt:{member.id}",
            to=dm_to(round_, member),
            message=prompt_message(round_, tz_of(member, group)),
            round_id=round_.id,
            member_id=member.id,
            now=now,
            not_before=None if starts is None else starts[member.id],
        )

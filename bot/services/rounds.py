"""Reflection rounds: a prompt set sent to a channel's members as DMs, answers collected until the
round closes, then a summary of what members chose to share posted in the channel.

Most functions take the use case's session. The last three (`close_due_rounds`,
`send_due_reminders`, `answer_from_reply`) are whole use cases for the scheduler and the adapters,
so they open their own transactions like a command handler does."""

from __future__ import annotations

import logging
import zoneinfo
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import distinct, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain import (
    Actor,
    Button,
    ChannelRef,
    Message,
    Platform,
    Reply,
    Section,
    Visibility,
)
from bot.domain.plural import plural
from bot.errors import NotFound, UserError
from bot.services import entries, members, outbox
from bot.services.context import Deps
from bot.services.templates import RoundTemplateSpec
from bot.store.models import Delivery, Group, Member, Response, Round, RoundRecipient
from bot.store.upsert import insert_ignore
from bot.summarise import Entry, Summariser, Summary

log = logging.getLogger(__name__)

OPEN, CLOSED = "open", "closed"
ANSWER_LIMIT = 4000
# A second `round remind` within this long reuses the first one's keys: nobody gets it twice.
REMIND_COOLDOWN = timedelta(hours=1)


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    recipients: int
    answered: int

    @property
    def rate(self) -> int:
        return round(100 * self.answered / self.recipients) if self.recipients else 0


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    pending: int
    failed: int
    failures: tuple[tuple[str, str], ...]  # (display name, reason): for facilitators only


async def get_round(session: AsyncSession, round_id: int, *, lock: bool = False) -> Round:
    """The round; `lock` takes a shared row lock on PostgreSQL, so a concurrent close waits for
    this transaction (and an answer never lands after the summary was made)."""
    query = select(Round).where(Round.id == round_id)
    if lock:
        query = query.with_for_update(read=True)
    found = (await session.execute(query)).scalar_one_or_none()
    if found is None:
        raise NotFound(f"There is no round #{round_id}. `round list` shows the open ones.")
    return found


async def open_rounds(session: AsyncSession, group_id: int) -> list[Round]:
    query = (
        select(Round)
        .where(Round.group_id == group_id, Round.state == OPEN)
        .order_by(Round.opened_at.desc(), Round.id.desc())
    )
    return list((await session.execute(query)).scalars())


async def latest_open_round(session: AsyncSession, group_id: int) -> Round | None:
    found = await open_rounds(session, group_id)
    return found[0] if found else None


async def latest_round(session: AsyncSession, group_id: int) -> Round | None:
    query = (
        select(Round)
        .where(Round.group_id == group_id)
        .order_by(Round.opened_at.desc(), Round.id.desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def is_recipient(session: AsyncSession, round_id: int, member_id: int) -> bool:
    query = select(RoundRecipient.id).where(
        RoundRecipient.round_id == round_id, RoundRecipient.member_id == member_id
    )
    return (await session.execute(query)).first() is not None


async def progress(session: AsyncSession, round_id: int) -> Progress:
    recipients = await session.scalar(
        select(func.count()).where(RoundRecipient.round_id == round_id)
    )
    answered = await session.scalar(
        select(func.count(distinct(Response.member_id))).where(Response.round_id == round_id)
    )
    return Progress(int(recipients or 0), int(answered or 0))


async def delivery_report(session: AsyncSession, round_id: int) -> DeliveryReport:
    """Delivery counts of a round and its failed DMs with the member's name and the reason."""
    counts = {outbox.SENT: 0, outbox.PENDING: 0, outbox.FAILED: 0}
    query = (
        select(Delivery.state, func.count())
        .where(Delivery.round_id == round_id)
        .group_by(Delivery.state)
    )
    for state, count in (await session.execute(query)).all():
        key = outbox.PENDING if state == outbox.SENDING else state
        counts[key] = counts.get(key, 0) + int(count)
    failed_query = (
        select(Member.display_name, Delivery.last_error)
        .select_from(Delivery)
        .outerjoin(Member, Member.id == Delivery.member_id)
        .where(Delivery.round_id == round_id, Delivery.state == outbox.FAILED)
        .order_by(Delivery.id)
    )
    failures = tuple(
        (name or "the channel post", error or "unknown")
        for name, error in (await session.execute(failed_query)).all()
    )
    return DeliveryReport(
        counts[outbox.SENT], counts[outbox.PENDING], counts[outbox.FAILED], failures
    )


async def member_answers(
    session: AsyncSession, round_id: int, member_id: int
) -> dict[str, Response]:
    query = select(Response).where(Response.round_id == round_id, Response.member_id == member_id)
    return {r.prompt_key: r for r in (await session.execute(query)).scalars()}


async def recipient_rounds(session: AsyncSession, member_id: int) -> list[Round]:
    """Open rounds sent to this member, newest first."""
    query = (
        select(Round)
        .join(RoundRecipient, RoundRecipient.round_id == Round.id)
        .where(RoundRecipient.member_id == member_id, Round.state == OPEN)
        .order_by(Round.opened_at.desc(), Round.id.desc())
    )
    return list((await session.execute(query)).scalars())


# --- time and text -------------------------------------------------------------------------


def zone(name: str | None, fallback: str = "UTC") -> zoneinfo.ZoneInfo:
    for candidate in (name, fallback, "UTC"):
        if candidate:
            try:
                return zoneinfo.ZoneInfo(candidate)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    return zoneinfo.ZoneInfo("UTC")


def format_time(moment: datetime, timezone: str) -> str:
    """'Thu 26 Nov 09:00 (Europe/London)': a close time as the reader's clock shows it."""
    tz = zone(timezone)
    return f"{moment.astimezone(tz).strftime('%a %d %b %H:%M')} ({tz.key})"


def tz_of(member: Member, group: Group) -> str:
    return zone(member.timezone, group.timezone).key


def is_away(member: Member, today: date) -> bool:
    return member.away_until is not None and member.away_until >= today


def prompts_of(round_: Round) -> list[dict[str, str]]:
    return [{"key": str(p["key"]), "text": str(p["text"])} for p in round_.prompts]


def answer_button(round_id: int, *, edit: bool = False) -> Button:
    return Button("Edit answers" if edit else "Answer", f"answer {round_id}", "primary")


def prompt_message(round_: Round, timezone: str) -> Message:
    lines = [f"*{round_.title}* (round #{round_.id})"]
    if round_.intro:
        lines.append(round_.intro)
    lines.append("")
    lines.extend(f"{n}. {p['text']}" for n, p in enumerate(prompts_of(round_), start=1))
    lines.append("")
    lines.append(
        f"Open until {format_time(round_.closes_at, timezone)}. Press Answer, or reply here to "
        "answer the first open question; you can edit your answers until the round closes."
    )
    return Message("\n".join(lines), buttons=(answer_button(round_.id),))


def reminder_message(round_: Round, timezone: str) -> Message:
    text = (
        f"A reminder: *{round_.title}* (round #{round_.id}) closes "
        f"{format_time(round_.closes_at, timezone)}, and your answer is not in yet. "
        "A few lines are enough."
    )
    return Message(text, buttons=(answer_button(round_.id),))


# --- starting ------------------------------------------------------------------------------


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


def round_duration(text: str | None, template: RoundTemplateSpec, settings: Settings) -> timedelta:
    from bot.commands.values import parse_duration  # lazily: bot.commands imports this module

    duration = parse_duration(text if text is not None else template.default_duration)
    limit = settings.rounds.max_duration_days
    if duration > timedelta(days=limit):
        raise UserError(f"A round can stay open at most {plural(limit, 'day')}.")
    return duration


async def open_round_with_template(
    session: AsyncSession, group: Group, template_key: str
) -> Round | None:
    query = select(Round).where(
        Round.group_id == group.id, Round.template_key == template_key, Round.state == OPEN
    )
    return (await session.execute(query)).scalars().first()


async def lock_group(session: AsyncSession, group: Group) -> None:
    """Serialise round starts in one group on PostgreSQL (SQLite serialises writers anyway)."""
    await session.execute(select(Group.id).where(Group.id == group.id).with_for_update())


@dataclass(frozen=True)
class Started:
    round: Round
    recipients: int
    skipped_away: int


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
        prompts=[{"key": p.key, "text": p.text} for p in template.prompts],
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
        )
    await session.flush()
    return Started(round_, len(recipients), len(everyone) - len(recipients))


def dm_to(round_: Round, member: Member) -> ChannelRef:
    platform = Platform(round_.platform)
    return ChannelRef(platform, round_.workspace, member.user_id, dm_user=member.user_id)


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
        "prompts": [{"key": p.key, "text": p.text} for p in template.prompts],
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
            not_before=starts[member.id],
        )
    await session.flush()
    return Started(round_, len(recipients), len(audience) - len(recipients))


# --- answering -----------------------------------------------------------------------------


def check_open(round_: Round, now: datetime, timezone: str) -> None:
    if round_.state != OPEN or now >= round_.closes_at:
        when = format_time(round_.closed_at or round_.closes_at, timezone)
        raise UserError(
            f"Round #{round_.id} closed on {when}; answers can no longer be added or changed."
        )


async def require_recipient(session: AsyncSession, round_: Round, member_id: int) -> None:
    if not await is_recipient(session, round_.id, member_id):
        raise UserError(
            f"Round #{round_.id} was not sent to you, so you cannot answer it. "
            "Rounds go to the members of the channel when they start."
        )


@dataclass(frozen=True)
class Saved:
    created: int
    updated: int
    removed: int


async def save_answers(
    session: AsyncSession,
    round_: Round,
    member_id: int,
    answers: Mapping[str, str],
    *,
    surprise: int | None,
    visibility: Visibility,
    named: bool,
    now: datetime,
) -> Saved:
    """Store answers by prompt key (an empty text removes that answer). One row per
    (round, member, prompt) whatever the races; the sharing choice applies to all of them."""
    keys = {p["key"] for p in prompts_of(round_)}
    unknown = sorted(set(answers) - keys)
    if unknown:
        raise UserError(f"Round #{round_.id} has no question '{unknown[0]}'.")
    existing = await member_answers(session, round_.id, member_id)
    created = updated = removed = 0
    for key, text in answers.items():
        if not text:
            if key in existing:
                await session.delete(existing.pop(key))
                removed += 1
            continue
        await _upsert_response(
            session,
            {
                "round_id": round_.id,
                "member_id": member_id,
                "prompt_key": key,
                "text": text,
                "surprise": surprise,
                "visibility": str(visibility),
                "named": named,
                "created_at": now,
                "updated_at": now,
            },
        )
        if key in existing:
            updated += 1
        else:
            created += 1
    # Answers not touched this time follow the newest sharing choice too.
    untouched = [r.id for k, r in existing.items() if k not in answers]
    if untouched:
        await session.execute(
            update(Response)
            .where(Response.id.in_(untouched))
            .values(surprise=surprise, visibility=str(visibility), named=named)
            .execution_options(synchronize_session=False)
        )
    await session.flush()
    return Saved(created, updated, removed)


async def _upsert_response(session: AsyncSession, values: dict[str, Any]) -> None:
    table: Any = Response.__table__
    changes = ("text", "surprise", "visibility", "named", "updated_at")
    insert = (
        postgresql.insert(table)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(table)
    ).values(**values)
    stmt = insert.on_conflict_do_update(
        index_elements=["round_id", "member_id", "prompt_key"],
        set_={name: insert.excluded[name] for name in changes},
    )
    await session.execute(stmt)


def first_unanswered(round_: Round, answered: Mapping[str, object]) -> dict[str, str] | None:
    for prompt in prompts_of(round_):
        if prompt["key"] not in answered:
            return prompt
    return None


# --- reminders -----------------------------------------------------------------------------


async def unanswered_recipients(session: AsyncSession, round_: Round) -> list[Member]:
    answered = select(Response.member_id).where(Response.round_id == round_.id)
    query = (
        select(Member)
        .join(RoundRecipient, RoundRecipient.member_id == Member.id)
        .where(RoundRecipient.round_id == round_.id, Member.id.not_in(answered))
        .order_by(Member.id)
    )
    return list((await session.execute(query)).scalars())


async def queue_reminders(
    session: AsyncSession,
    round_: Round,
    group: Group,
    key: Callable[[Member], str],
    now: datetime,
) -> tuple[int, int]:
    """Queue a reminder DM for each recipient with no answer who is not away.
    Returns (newly queued, members due a reminder)."""
    today = now.astimezone(zone(group.timezone)).date()
    due = [m for m in await unanswered_recipients(session, round_) if not is_away(m, today)]
    queued = 0
    for member in due:
        queued += await outbox.enqueue(
            session,
            key=key(member),
            to=dm_to(round_, member),
            message=reminder_message(round_, tz_of(member, group)),
            round_id=round_.id,
            member_id=member.id,
            now=now,
        )
    return queued, len(due)


async def manual_reminder_number(session: AsyncSession, round_id: int, now: datetime) -> int:
    """Which manual reminder this is: the last one's number again while it is recent (a repeated
    command sends nothing new), else the next number."""
    prefix = f"round:{round_id}:remind:"
    query = select(Delivery.key, Delivery.created_at).where(
        Delivery.round_id == round_id, Delivery.key.startswith(prefix, autoescape=True)
    )
    last, last_at = 0, None
    for key, created_at in (await session.execute(query)).all():
        number = int(key.removeprefix(prefix).split(":", 1)[0])
        if number > last or (number == last and last_at is not None and created_at > last_at):
            last, last_at = number, created_at
    if last and last_at is not None and now - last_at < REMIND_COOLDOWN:
        return last
    return last + 1


# --- closing -------------------------------------------------------------------------------


async def mark_closed(session: AsyncSession, round_id: int, now: datetime) -> bool:
    """Close the round; False when it was closed already (by a person or the scheduler)."""
    result: Any = await session.execute(
        update(Round)
        .where(Round.id == round_id, Round.state == OPEN)
        .values(state=CLOSED, closed_at=now)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)


async def shared_entries(session: AsyncSession, round_id: int) -> list[Entry]:
    """The answers members shared with the group, under labels that hold for this summary only
    (see `entries.anonymous_labels`) unless they chose `named`. Private and facilitator-only
    answers never leave this function."""
    query = (
        select(Response, Member.display_name)
        .join(Member, Member.id == Response.member_id)
        .where(Response.round_id == round_id, Response.visibility == str(Visibility.GROUP))
        .order_by(Response.id)
    )
    rows = (await session.execute(query)).all()
    labels = entries.anonymous_labels([(r.member_id, r.named) for r, _ in rows])
    return [
        Entry(
            id=f"response:{r.id}",
            text=r.text,
            author=label or name,
            surprise=r.surprise,
            created_at=r.created_at,
        )
        for (r, name), label in zip(rows, labels, strict=True)
    ]


def summary_message(round_: Round, summary: Summary, counts: Progress) -> Message:
    head = (
        f"Round #{round_.id} *{round_.title}* is closed: {counts.answered} of "
        f"{plural(counts.recipients, 'member')} answered."
    )
    if not summary.themes:
        head += " No answers were shared with the group this time."
    else:
        head += " What the group shared, theme by theme, is in the thread."
    sections = []
    for theme in summary.themes:
        lines = [theme.summary] if theme.summary else []
        lines.extend(f'> "{q.text}" ({q.author})' for q in theme.quotes)
        sections.append(Section(theme.label, "\n".join(lines), theme.entry_ids))
    if summary.questions:
        text = "\n".join(f"- {q}" for q in summary.questions)
        sections.append(Section("Questions to take further", text))
    return Message(head, sections=tuple(sections))


def message_text(message: Message) -> str:
    parts = [message.text]
    parts.extend(f"*{s.title}*\n{s.text}" for s in message.sections)
    return "\n\n".join(parts)


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
    summary = await summarise(deps.summariser, entries, deps.settings)
    message = summary_message(round_, summary, counts)
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


# --- use cases for the scheduler and the adapters ---------------------------------------


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


async def send_due_reminders(deps: Deps) -> int:
    """DM once each recipient who has not answered, `remind_before_hours` before the close
    (not before half the round has passed). Returns how many reminders were queued."""
    now = deps.clock()
    before = timedelta(hours=deps.settings.rounds.remind_before_hours)
    if not before:
        return 0
    queued = 0
    async with deps.db.begin() as session:
        query = select(Round).where(
            Round.state == OPEN, Round.closes_at > now, Round.closes_at <= now + before
        )
        for round_ in (await session.execute(query)).scalars():
            if now < round_.opened_at + (round_.closes_at - round_.opened_at) / 2:
                continue
            group = await session.get_one(Group, round_.group_id)
            added, _ = await queue_reminders(session, round_, group, autoremind_key(round_.id), now)
            queued += added
    if queued:
        deps.notify_outbox()
    return queued


def autoremind_key(round_id: int) -> Callable[[Member], str]:
    return lambda member: f"round:{round_id}:autoremind:{member.id}"


async def answer_from_reply(deps: Deps, actor: Actor, round_id: int, text: str) -> Reply:
    """A reply typed in the round's DM thread: the answer to the first unanswered question."""
    from bot.commands.values import check_text  # lazily: bot.commands imports this module

    try:
        answer = check_text("answer", text, max_length=ANSWER_LIMIT)
        now = deps.clock()
        async with deps.db.begin() as session:
            member = await members.ensure_member(session, actor)
            round_ = await get_round(session, round_id, lock=True)
            group = await session.get_one(Group, round_.group_id)
            timezone = tz_of(member, group)
            await require_recipient(session, round_, member.id)
            check_open(round_, now, timezone)
            existing = await member_answers(session, round_id, member.id)
            prompt = first_unanswered(round_, existing)
            if prompt is None:
                raise UserError(
                    f"You have answered every question of round #{round_id}. "
                    "Use Edit answers to change one."
                )
            # Keep the sharing choice the member already made in this round, if any.
            previous = next(iter(existing.values()), None)
            visibility = Visibility(previous.visibility) if previous else Visibility.GROUP
            named = previous.named if previous else False
            await save_answers(
                session,
                round_,
                member.id,
                {prompt["key"]: answer},
                surprise=previous.surprise if previous else None,
                visibility=visibility,
                named=named,
                now=now,
            )
            left = first_unanswered(round_, {**existing, prompt["key"]: True})
    except UserError as exc:
        return Reply.text(str(exc))
    shared = sharing_phrase(visibility, named)
    tail = f" Next question: {left['text']}" if left else " That was the last question."
    return Reply.text(
        f"Saved as your answer to “{prompt['text']}” ({shared}). Editable until "
        f"{format_time(round_.closes_at, timezone)}.{tail}",
        buttons=(answer_button(round_id, edit=True),),
    )


def sharing_phrase(visibility: Visibility, named: bool) -> str:
    if visibility is Visibility.PRIVATE:
        return "only you can see it"
    if visibility is Visibility.FACILITATORS:
        return "only facilitators can see it"
    return "shared with the group " + ("with your name" if named else "anonymously")

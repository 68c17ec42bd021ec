"""Reminding the recipients of an open round who have not answered: by hand (`round remind`)
or automatically before the close: once, `rounds.remind_before_hours` before it, or at the
hours a group chose with `round reminders` (at most three).

A reminder is a DM to each person without an answer, naming nobody else. A group's own
reminders respect each member's clock: one that would arrive in their night (21:00 to 08:00
where they are) comes at 20:00 that evening instead, earlier rather than later, so it still
comes at least that many hours before the close; and `away` is read on the member's own date.

`send_due_reminders` is a whole use case for the scheduler: it opens its own transaction. Its
outbox keys (round, hours, member) make every run after the first, on any replica and after
any restart, queue nothing again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import outbox
from bot.services.context import Deps
from bot.services.rounds.messages import dm_to, reminder_message
from bot.services.rounds.queries import OPEN, unanswered_recipients
from bot.services.rounds.times import is_away, tz_of, zone
from bot.store.models import Delivery, Group, Member, Round

# A second `round remind` within this long reuses the first one's keys: nobody gets it twice.
REMIND_COOLDOWN = timedelta(hours=1)
MAX_REMINDERS = 3
# A member's night, on their own clock: reminders due then come at EVENING before it.
NIGHT_FROM, NIGHT_UNTIL, EVENING = 21, 8, time(20, 0)


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


def autoremind_key(round_id: int) -> Callable[[Member], str]:
    return lambda member: f"round:{round_id}:autoremind:{member.id}"


def member_due(due: datetime, opened_at: datetime, timezone: str) -> datetime:
    """When a reminder due at `due` reaches a member in `timezone`: then, or at 20:00 before
    their night when it falls in it (unless that is before the round opened)."""
    tz = zone(timezone)
    local = due.astimezone(tz)
    if NIGHT_UNTIL <= local.hour < NIGHT_FROM:
        return due
    day = local.date() if local.hour >= NIGHT_FROM else local.date() - timedelta(days=1)
    evening = datetime.combine(day, EVENING, tz)
    return evening if evening > opened_at else due


async def _group_reminders(
    session: AsyncSession, round_: Round, group: Group, hours: list[int], now: datetime
) -> int:
    """Queue the reminders of a group's chosen hours that are due for each member by now."""
    queued = 0
    pending = await unanswered_recipients(session, round_)
    for h in sorted(set(hours), reverse=True):
        due = round_.closes_at - timedelta(hours=h)
        if due <= round_.opened_at:
            continue  # the round was shorter than that: this reminder has no place in it
        for member in pending:
            timezone = tz_of(member, group)
            if now < member_due(due, round_.opened_at, timezone):
                continue
            if is_away(member, now.astimezone(zone(timezone)).date()):
                continue
            queued += await outbox.enqueue(
                session,
                key=f"round:{round_.id}:autoremind:{h}h:{member.id}",
                to=dm_to(round_, member),
                message=reminder_message(round_, timezone),
                round_id=round_.id,
                member_id=member.id,
                now=now,
            )
    return queued


async def send_due_reminders(deps: Deps) -> int:
    """Queue the reminders due by now: at each group's chosen hours before the close, or for
    groups that chose none, once `remind_before_hours` before it (not before half the round
    has passed). Returns how many reminders were queued."""
    now = deps.clock()
    before = timedelta(hours=deps.settings.rounds.remind_before_hours)
    queued = 0
    async with deps.db.begin() as session:
        query = (
            select(Round, Group)
            .join(Group, Group.id == Round.group_id)
            .where(Round.state == OPEN, Round.closes_at > now)
            .order_by(Round.id)
        )
        for round_, group in (await session.execute(query)).all():
            if group.round_reminders is not None:
                queued += await _group_reminders(session, round_, group, group.round_reminders, now)
                continue
            if not before or round_.closes_at > now + before:
                continue
            if now < round_.opened_at + (round_.closes_at - round_.opened_at) / 2:
                continue
            added, _ = await queue_reminders(session, round_, group, autoremind_key(round_.id), now)
            queued += added
    if queued:
        deps.notify_outbox()
    return queued

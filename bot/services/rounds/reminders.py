"""Reminding the recipients of an open round who have not answered: by hand (`round remind`)
or once, automatically, before the close.

`send_due_reminders` is a whole use case for the scheduler: it opens its own transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

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

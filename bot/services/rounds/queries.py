"""Reading rounds, their recipients and their responses. Nothing here writes."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, distinct, exists, func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bot.domain import Visibility
from bot.errors import NotFound
from bot.services import entries, outbox
from bot.store.models import Delivery, Group, Member, Response, Round, RoundRecipient
from bot.summarise import Entry

OPEN, CLOSED = "open", "closed"


@dataclass(frozen=True)
class Progress:
    recipients: int
    answered: int

    @property
    def rate(self) -> int:
        return round(100 * self.answered / self.recipients) if self.recipients else 0


@dataclass(frozen=True)
class Standing:
    """A round's progress, and one member's part in it."""

    progress: Progress
    asked: bool  # the member is one of its recipients
    answered: int  # questions the member answered


@dataclass(frozen=True)
class DeliveryReport:
    sent: int
    pending: int
    failed: int
    failures: tuple[tuple[str, str], ...]  # (display name, reason): for facilitators only


def prompts_of(round_: Round) -> list[dict[str, str]]:
    return [{"key": str(p["key"]), "text": str(p["text"])} for p in round_.prompts]


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
    return list((await session.execute(_open_rounds(), {"group": group_id})).scalars())


@functools.cache
def _open_rounds() -> Select[Round]:
    """Built once (see `_standing`): every `round status` in a channel reads it."""
    return (
        select(Round)
        .where(Round.group_id == bindparam("group"), Round.state == OPEN)
        .order_by(Round.opened_at.desc(), Round.id.desc())
    )


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


async def open_round_with_template(
    session: AsyncSession, group: Group, template_key: str
) -> Round | None:
    query = select(Round).where(
        Round.group_id == group.id, Round.template_key == template_key, Round.state == OPEN
    )
    return (await session.execute(query)).scalars().first()


async def recipient_rounds(session: AsyncSession, member_id: int) -> list[Round]:
    """Open rounds sent to this member, newest first."""
    query = (
        select(Round)
        .join(RoundRecipient, RoundRecipient.round_id == Round.id)
        .where(RoundRecipient.member_id == member_id, Round.state == OPEN)
        .order_by(Round.opened_at.desc(), Round.id.desc())
    )
    return list((await session.execute(query)).scalars())


async def is_recipient(session: AsyncSession, round_id: int, member_id: int) -> bool:
    query = select(RoundRecipient.id).where(
        RoundRecipient.round_id == round_id, RoundRecipient.member_id == member_id
    )
    return (await session.execute(query)).first() is not None


async def unanswered_recipients(session: AsyncSession, round_: Round) -> list[Member]:
    answered = select(Response.member_id).where(Response.round_id == round_.id)
    query = (
        select(Member)
        .join(RoundRecipient, RoundRecipient.member_id == Member.id)
        .where(RoundRecipient.round_id == round_.id, Member.id.not_in(answered))
        .order_by(Member.id)
    )
    return list((await session.execute(query)).scalars())


async def progress(session: AsyncSession, round_id: int) -> Progress:
    recipients = await session.scalar(
        select(func.count()).where(RoundRecipient.round_id == round_id)
    )
    answered = await session.scalar(
        select(func.count(distinct(Response.member_id))).where(Response.round_id == round_id)
    )
    return Progress(int(recipients or 0), int(answered or 0))


async def standing(session: AsyncSession, round_id: int, member_id: int) -> Standing:
    """`progress`, `is_recipient` and the member's answers counted, in one statement."""
    params = {"round": round_id, "member": member_id}
    return _standing_of(*(await session.execute(_standing(), params)).one())


@dataclass(frozen=True)
class OpenStatus:
    """A group's latest open round as `round status` shows it to a member."""

    round_id: int
    title: str
    closes_at: datetime
    questions: int
    standing: Standing


async def open_status(
    connection: AsyncConnection, group_id: int, member_id: int
) -> OpenStatus | None:
    """`latest_open_round` and its `standing`, in one Core statement; None with no open round."""
    params = {"group": group_id, "member": member_id}
    row = (await connection.execute(_open_status(), params)).first()
    if row is None:
        return None
    round_id, title, closes_at, prompts, *counts = row
    return OpenStatus(round_id, title, closes_at, len(prompts or []), _standing_of(*counts))


@functools.cache
def _open_status() -> Select[int, str, datetime, list[dict[str, Any]], int, int, int, bool]:
    return (
        select(
            Round.id,
            Round.title,
            Round.closes_at,
            Round.prompts,
            *_standing_columns(Round.id, bindparam("member")),
        )
        .where(Round.group_id == bindparam("group"), Round.state == OPEN)
        .order_by(Round.opened_at.desc(), Round.id.desc())
        .limit(1)
    )


@functools.cache
def _standing() -> Select[int, int, int, bool]:
    """Built once: building it was a good part of `round status`'s time under load."""
    return select(*_standing_columns(bindparam("round"), bindparam("member")))


def _standing_columns(round_id: Any, member_id: Any) -> tuple[Any, ...]:
    """Recipients, members who answered, the member's answered questions, and whether they
    were asked, of the round `round_id` (a parameter, or the enclosing query's round)."""
    return (
        select(func.count()).where(RoundRecipient.round_id == round_id).scalar_subquery(),
        select(func.count(distinct(Response.member_id)))
        .where(Response.round_id == round_id)
        .scalar_subquery(),
        select(func.count(distinct(Response.prompt_key)))
        .where(Response.round_id == round_id, Response.member_id == member_id)
        .scalar_subquery(),
        exists().where(RoundRecipient.round_id == round_id, RoundRecipient.member_id == member_id),
    )


def _standing_of(recipients: Any, answered: Any, mine: Any, asked: Any) -> Standing:
    progress = Progress(int(recipients or 0), int(answered or 0))
    return Standing(progress, bool(asked), int(mine or 0))


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


async def shared_entries(session: AsyncSession, round_id: int) -> list[Entry]:
    """The answers members shared with the group, under labels that hold for this summary only
    (see `entries.anonymous_labels`) unless they chose `named`. Private and facilitator-only
    answers never leave this function."""
    query = (
        select(Response, Member.display_name)
        .join(Member, Member.id == Response.member_id)
        .where(
            Response.round_id == round_id,
            Response.visibility == str(Visibility.GROUP),
            Response.kind == "text",  # choices and dyads are counted, not quoted
        )
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

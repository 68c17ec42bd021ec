"""The delivery outbox: every outgoing message is a row first, then sent.

`key` is the natural key of a delivery ("round:12:prompt:40"); enqueueing the same key
twice is a no-op, so a retried use case or a restarted scheduler never sends twice.

`drain` sends what is due. Rows are claimed in a short transaction (on PostgreSQL with
`FOR UPDATE SKIP LOCKED`, so several replicas drain side by side) and leased (a minute by
default, `outbox.lease_seconds`); the platform call happens outside any transaction, and each
outcome is recorded in its own. A drain asked to stop hands back the rows it has not started.

Exactly once: a sender can die after the platform took a message but before the row says so.
Such a row comes back (its lease runs out) with `attempts` above zero, and so does a row whose
send failed in a way that may still have posted. Before sending a row that was tried before, the
drain asks the adapter whether the message is already there (`find_sent`, for adapters that tag
messages with the outbox key) and records it as sent instead of posting it again."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol, runtime_checkable

from sqlalchemy import and_, case, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import ChannelRef, Message, Platform
from bot.errors import DeliveryFailed, DeliveryRetry
from bot.services.context import Deps
from bot.store.base import utcnow
from bot.store.models import SHORT, Delivery
from bot.store.upsert import insert_ignore

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
LEASE = timedelta(seconds=60)  # the default of `outbox.lease_seconds`
MAX_ATTEMPTS = 8
FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=15)


@runtime_checkable
class FindsSent(Protocol):
    """What an adapter adds when it can tell whether a message with an outbox key was posted."""

    async def find_sent(self, to: ChannelRef, key: str) -> str | None:
        """The platform message id of the message posted under `key`, or None."""


Observer = Callable[[str, str], None]  # (platform, outcome): sent, found, retried, failed


@dataclass(frozen=True)
class DrainResult:
    sent: int = 0
    retried: int = 0
    failed: int = 0


async def enqueue(
    session: AsyncSession,
    *,
    key: str,
    to: ChannelRef,
    message: Message,
    round_id: int | None = None,
    member_id: int | None = None,
    now: datetime | None = None,
    not_before: datetime | None = None,
) -> bool:
    """Queue `message` for `to` (a DM when `to.dm_user` is set). True when newly queued.

    `now` (the use case's clock) stamps the row; a new row is due at once either way, unless
    `not_before` holds it back until then (a scheduled prompt at the member's local time)."""
    stamp = now or utcnow()
    values: dict[str, Any] = {
        "key": key,
        "platform": str(to.platform),
        "workspace": to.workspace,
        "target": to.dm_user or to.channel,
        "target_kind": "dm" if to.is_dm else "channel",
        "payload": message.to_json(),
        "state": PENDING,
        "attempts": 0,
        "round_id": round_id,
        "member_id": member_id,
        "created_at": stamp,
        "next_attempt_at": not_before if not_before is not None else stamp,
    }
    return await insert_ignore(session, Delivery, values, ["key"])


def target_of(delivery: Delivery) -> ChannelRef:
    platform = Platform(delivery.platform)
    if delivery.target_kind == "dm":
        return ChannelRef(platform, delivery.workspace, delivery.target, dm_user=delivery.target)
    return ChannelRef(platform, delivery.workspace, delivery.target)


async def pending_count(deps: Deps) -> int:
    """Deliveries not yet sent nor given up on (including those being sent right now)."""
    async with deps.db.begin() as session:
        query = select(func.count()).where(Delivery.state.in_((PENDING, SENDING)))
        return int((await session.execute(query)).scalar_one())


def lease_of(deps: Deps) -> timedelta:
    return timedelta(seconds=deps.settings.outbox.lease_seconds)


async def drain(
    deps: Deps,
    *,
    limit: int = 100,
    stopping: Callable[[], bool] | None = None,
    observe: Observer | None = None,
) -> DrainResult:
    """Send up to `limit` due deliveries through their platform's adapter.

    Rows for a platform with no adapter registered stay pending until one is. Once `stopping()`
    is true (a graceful stop) no further send starts and the rest go back to the queue, due at
    once for whichever replica drains next; so does everything not yet started if the drain is
    cancelled. The send under way when it is cancelled keeps its lease: it may have been posted.
    `observe(platform, outcome)` hears each outcome (metrics)."""
    platforms = [str(adapter.platform) for adapter in deps.adapters.all()]
    if not platforms:
        return DrainResult()
    now = deps.clock()
    lease = lease_of(deps)
    async with deps.db.begin() as session:
        rows = await _claim(session, platforms, now, limit, lease)
    # No new send starts in the last third of the lease: once it runs out another replica may
    # claim the row, and it must not find one we are still sending.
    deadline = now + lease - lease / 3
    counts = {SENT: 0, "retried": 0, FAILED: 0}
    index = 0
    try:
        while index < len(rows):
            row = rows[index]
            if deps.clock() >= deadline or (stopping is not None and stopping()):
                break
            index += 1
            outcome = await _deliver(deps, row)
            if outcome is None:
                continue
            counts[SENT if outcome == "found" else outcome] += 1
            if observe is not None:
                observe(row.platform, outcome)
    except BaseException:  # cancelled, or the database went away mid-drain
        # rows[index - 1] was being sent and may have been posted: it keeps its lease.
        with contextlib.suppress(Exception):
            await asyncio.shield(_release(deps, rows[index:]))
        raise
    await _release(deps, rows[index:])
    return DrainResult(counts[SENT], counts["retried"], counts[FAILED])


async def _deliver(deps: Deps, row: Delivery) -> str | None:
    """Send one claimed row; the outcome (sent, found, retried, failed), None if released."""
    adapter = deps.adapters.get(row.platform)
    if adapter is None:  # unregistered since the claim: leave it for later
        await _release(deps, [row])
        return None
    if row.attempts >= MAX_ATTEMPTS:  # lost its lease too often: the send keeps dying
        await _record(deps, row.id, state=FAILED, last_error="gave up: sending kept stopping")
        return FAILED
    to = target_of(row)
    try:
        found = None
        if row.attempts > 0 and isinstance(adapter, FindsSent):
            found = await adapter.find_sent(to, row.key)
        if found is not None:
            log.info("delivery %s was already posted; not sending it again", row.key)
            await _record(deps, row.id, state=SENT, platform_message_id=found, sent_at=deps.clock())
            return "found"
        message_id = await adapter.send(to, Message.from_json(row.payload), key=row.key)
    except DeliveryRetry as exc:
        return FAILED if await _retry(deps, row, str(exc), exc.after) else "retried"
    except DeliveryFailed as exc:
        log.warning("delivery %s failed: %s", row.key, _short(str(exc)))
        await _record(deps, row.id, state=FAILED, last_error=_short(str(exc)))
        return FAILED
    except Exception as exc:  # an adapter bug: retry, and log the type only (never text)
        log.error("delivery %s raised %s", row.key, type(exc).__name__)
        return FAILED if await _retry(deps, row, type(exc).__name__, None) else "retried"
    await _record(deps, row.id, state=SENT, platform_message_id=message_id, sent_at=deps.clock())
    return SENT


async def _claim(
    session: AsyncSession, platforms: list[str], now: datetime, limit: int, lease: timedelta
) -> list[Delivery]:
    """Mark due rows as being sent (leased until now + lease) and return them.

    One UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED): on PostgreSQL concurrent drains
    skip each other's rows; on SQLite the statement takes the write lock before it reads."""
    due = and_(
        Delivery.platform.in_(platforms),
        or_(
            # A row that was never tried is due at once, whatever clock stamped it, unless it
            # was queued to wait (next_attempt_at after created_at: a member's local time).
            and_(
                Delivery.state == PENDING,
                or_(
                    Delivery.next_attempt_at <= now,
                    and_(Delivery.attempts == 0, Delivery.next_attempt_at <= Delivery.created_at),
                ),
            ),
            # A lease that ran out: its sender stopped mid-way; that counts as an attempt.
            and_(Delivery.state == SENDING, Delivery.next_attempt_at <= now),
        ),
    )
    candidates = (
        select(Delivery.id)
        .where(due)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(Delivery)
        .where(Delivery.id.in_(candidates.scalar_subquery()), due)
        .values(
            state=SENDING,
            next_attempt_at=now + lease,
            attempts=case(
                (Delivery.state == SENDING, Delivery.attempts + 1), else_=Delivery.attempts
            ),
        )
        .returning(Delivery)
        .execution_options(synchronize_session=False)
    )
    rows = list((await session.execute(stmt)).scalars())
    return sorted(rows, key=lambda r: r.id)


async def _retry(deps: Deps, row: Delivery, reason: str, after: float | None) -> bool:
    """Back off and try again later; True when this was the last allowed attempt."""
    attempts = row.attempts + 1
    reason = _short(reason)
    if attempts >= MAX_ATTEMPTS:
        log.warning("delivery %s failed after %d attempts: %s", row.key, attempts, reason)
        await _record(deps, row.id, state=FAILED, attempts=attempts, last_error=reason)
        return True
    if after is not None:
        wait = min(timedelta(seconds=max(after, 0.0)), MAX_BACKOFF)
    else:
        wait = min(FIRST_BACKOFF * 2 ** (attempts - 1), MAX_BACKOFF)
    log.info("delivery %s will be retried in %ss: %s", row.key, wait.total_seconds(), reason)
    await _record(
        deps,
        row.id,
        state=PENDING,
        attempts=attempts,
        next_attempt_at=deps.clock() + wait,
        last_error=reason,
    )
    return False


async def _release(deps: Deps, rows: list[Delivery]) -> None:
    """Hand rows we claimed but will not send now back to the queue, due at once."""
    if not rows:
        return
    async with deps.db.begin() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_([r.id for r in rows]), Delivery.state == SENDING)
            .values(state=PENDING, next_attempt_at=deps.clock())
            .execution_options(synchronize_session=False)
        )


async def _record(deps: Deps, delivery_id: int, **values: object) -> None:
    async with deps.db.begin() as session:
        await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _short(reason: str) -> str:
    return reason[:SHORT]

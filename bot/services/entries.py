"""Shareable entries: the check-ins and round answers a digest (or a model) may read.

Only entries with visibility `group` ever leave this module. Each carries its author as a
stable pseudonym ("Member 3fa2c1", an HMAC of the member id under a per-install secret kept in
the app_state table), or the display name when the author chose `named`."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Visibility
from bot.services import cycles
from bot.store.models import AppState, CheckIn, Cycle, Experiment, Member, Response, Round
from bot.store.upsert import get_or_create
from bot.summarise import Entry

SECRET_KEY = "pseudonym_secret"
SHAREABLE = Visibility.GROUP.value


@dataclass(frozen=True)
class GroupEntry:
    """A shareable entry with what a digest needs beside its text."""

    entry: Entry  # pseudonymised, ready for a summariser
    kind: str  # "checkin" | "response"
    row_id: int
    member_id: int
    group_id: int
    created_at: datetime
    experiment_id: int | None = None
    round_id: int | None = None
    prompt_key: str | None = None
    surprise: int | None = None
    confidence: int | None = None

    @property
    def id(self) -> str:
        return self.entry.id


async def pseudonym_secret(session: AsyncSession) -> bytes:
    """The install's pseudonym key, created on first use; the same for every week after."""
    # Read first: an insert would make this a write transaction, and a digest's transaction
    # stays open while the summariser runs.
    row = await session.get(AppState, SECRET_KEY)
    if row is None:
        row = await get_or_create(
            session, AppState, {"key": SECRET_KEY}, {"value": secrets.token_hex(32)}
        )
    return bytes.fromhex(row.value)


def pseudonym(secret: bytes, member_id: int) -> str:
    digest = hmac.new(secret, f"member:{member_id}".encode(), hashlib.sha256).hexdigest()
    return f"Member {digest[:6]}"


async def authors(session: AsyncSession, member_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
    """member id -> (pseudonym, display name)."""
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    secret = await pseudonym_secret(session)
    rows = await session.execute(select(Member.id, Member.display_name).where(Member.id.in_(ids)))
    return {mid: (pseudonym(secret, mid), name) for mid, name in rows.all()}


def checkin_text(checkin: CheckIn) -> str:
    """The member's own words, field by field; blank lines keep a quote inside one field."""
    return _words(checkin.happened, checkin.learned, checkin.next)


def _words(*parts: str | None) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


async def collect(
    session: AsyncSession,
    group_ids: Sequence[int],
    start: datetime,
    end: datetime,
    *,
    cycle_ids: Sequence[int] | None = None,
    include_responses: bool = True,
) -> list[GroupEntry]:
    """Shareable entries written in [start, end): check-ins on the groups' experiments (only
    those in `cycle_ids` when given) and answers to the groups' rounds. Oldest first."""
    if not group_ids:
        return []
    # Columns, not ORM rows: a big group's week is tens of thousands of check-ins, and the
    # session would keep every one of them as an object while the summariser runs.
    checkin_query = (
        select(
            CheckIn.id,
            CheckIn.member_id,
            CheckIn.experiment_id,
            CheckIn.happened,
            CheckIn.learned,
            CheckIn.next,
            CheckIn.named,
            CheckIn.surprise,
            CheckIn.confidence,
            CheckIn.created_at,
            Experiment.group_id,
        )
        .join(Experiment, CheckIn.experiment_id == Experiment.id)
        .where(
            Experiment.group_id.in_(group_ids),
            CheckIn.visibility == SHAREABLE,
            CheckIn.created_at >= start,
            CheckIn.created_at < end,
        )
    )
    if cycle_ids is not None:
        checkin_query = checkin_query.where(Experiment.cycle_id.in_(cycle_ids))
    checkins = (await session.execute(checkin_query)).all()
    responses: list[tuple[Response, int]] = []
    if include_responses:
        response_query = (
            select(Response, Round.group_id)
            .join(Round, Response.round_id == Round.id)
            .where(
                Round.group_id.in_(group_ids),
                Response.visibility == SHAREABLE,
                Response.created_at >= start,
                Response.created_at < end,
            )
        )
        responses = [(r, g) for r, g in (await session.execute(response_query)).all()]
    names = await authors(
        session, [c.member_id for c in checkins] + [r.member_id for r, _ in responses]
    )

    def author(member_id: int, named: bool) -> str:
        alias, name = names.get(member_id, ("Member ?", "Member ?"))
        return name if named else alias

    out: list[GroupEntry] = []
    for c in checkins:
        entry = Entry(
            f"checkin:{c.id}",
            _words(c.happened, c.learned, c.next),
            author(c.member_id, c.named),
            c.surprise,
            c.created_at,
        )
        out.append(
            GroupEntry(
                entry,
                "checkin",
                c.id,
                c.member_id,
                c.group_id,
                c.created_at,
                experiment_id=c.experiment_id,
                surprise=c.surprise,
                confidence=c.confidence,
            )
        )
    for r, group_id in responses:
        entry = Entry(
            f"response:{r.id}",
            r.text.strip(),
            author(r.member_id, r.named),
            r.surprise,
            r.created_at,
        )
        out.append(
            GroupEntry(
                entry,
                "response",
                r.id,
                r.member_id,
                group_id,
                r.created_at,
                round_id=r.round_id,
                prompt_key=r.prompt_key,
                surprise=r.surprise,
            )
        )
    out = [e for e in out if e.entry.text]
    out.sort(key=lambda e: (e.created_at, e.kind, e.row_id))
    return out


async def group_entries(
    session: AsyncSession, group_id: int, start: datetime, end: datetime
) -> list[GroupEntry]:
    return await collect(session, [group_id], start, end)


@dataclass(frozen=True)
class ConnectedCycle:
    """A cycle below one of the group's cycles, with its shareable check-ins in the window."""

    cycle: Cycle
    parent: Cycle
    experiments: list[Experiment]
    entries: list[GroupEntry]


async def connected_cycles(
    session: AsyncSession, group_id: int, start: datetime, end: datetime
) -> list[ConnectedCycle]:
    """Child cycles (at any depth) of the group's cycles, for the roll-up. Their entries are the
    shareable check-ins on experiments in that child cycle, whichever group runs them."""
    own = list(
        (
            await session.execute(
                select(Cycle).where(Cycle.group_id == group_id).order_by(Cycle.id)
            )
        ).scalars()
    )
    if not own:
        return []
    out: list[ConnectedCycle] = []
    seen: set[int] = set()
    for parent in own:
        for child_id in sorted(await cycles.descendants(session, parent.id)):
            if child_id in seen:
                continue
            seen.add(child_id)
            child = await session.get(Cycle, child_id)
            if child is None:
                continue
            experiments = list(
                (
                    await session.execute(
                        select(Experiment)
                        .where(Experiment.cycle_id == child_id)
                        .order_by(Experiment.id)
                    )
                ).scalars()
            )
            group_ids = sorted({e.group_id for e in experiments})
            found = await collect(
                session, group_ids, start, end, cycle_ids=[child_id], include_responses=False
            )
            out.append(ConnectedCycle(child, parent, experiments, found))
    return out

"""Check-ins on running experiments, with the two self-signification sliders and a visibility."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Role
from bot.errors import NotFound, UserError
from bot.services import experiments, privacy
from bot.services.scope import Here
from bot.store.models import CheckIn, Experiment, Member


@dataclass(frozen=True)
class CheckInData:
    """Checked values, as a form or inline fields give them."""

    happened: str
    learned: str = ""
    next: str = ""
    surprise: int = 50
    confidence: int = 50
    visibility: str = "group"
    named: bool = False

    def __post_init__(self) -> None:
        # The commands check these first; this guards every other caller.
        for name, value in (("surprise", self.surprise), ("confidence", self.confidence)):
            if not 0 <= value <= 100:
                raise UserError(f"{name} must be from 0 to 100, not {value}.")
        if self.visibility not in privacy.VISIBILITIES:
            raise UserError(f"visibility must be one of: {', '.join(privacy.VISIBILITIES)}.")
        if not self.happened.strip():
            raise UserError("happened is required.")


@dataclass(frozen=True)
class VisibleCheckIn:
    checkin: CheckIn
    author: str  # "you", the name when the author chose named, else "a member"


@functools.cache
def _by_source() -> Select[CheckIn]:
    # Statements on a command's path are built once: SQLAlchemy then skips rebuilding them and
    # their cache keys, a good part of a short command's time.
    return select(CheckIn).where(CheckIn.source_key == bindparam("key"))


@functools.cache
def _insert_unless_replayed(dialect_name: str) -> Any:
    # On the table, returning the id alone: the ORM's bulk-insert path, which returned the
    # whole row as an entity, took longer than the rest of a check-in's statements together.
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table: Any = CheckIn.__table__
    return (
        dialect.insert(table)
        .on_conflict_do_nothing(index_elements=["source_key"])
        .returning(table.c.id)
    )


@functools.cache
def _insert_if_running(dialect_name: str, in_dm: bool) -> Any:
    # The experiment's id comes from a select that finds it running here, so the common
    # check-in needs no read of its own (see `record_if_running`).
    dialect = postgresql if dialect_name == "postgresql" else sqlite
    table: Any = CheckIn.__table__
    names = [c.name for c in table.c if c.name not in ("id", "experiment_id")]
    found = select(Experiment.id, *(bindparam(n, type_=table.c[n].type) for n in names)).where(
        experiments.running_here(in_dm)
    )
    return (
        dialect.insert(table)
        .from_select(["experiment_id", *names], found)
        .on_conflict_do_nothing(index_elements=["source_key"])
        .returning(table.c.id)
    )


def _values(
    experiment_id: int, member_id: int, data: CheckInData, source_key: str | None, now: datetime
) -> dict[str, Any]:
    return {
        "experiment_id": experiment_id,
        "member_id": member_id,
        "happened": data.happened,
        "learned": data.learned,
        "next": data.next,
        "surprise": data.surprise,
        "confidence": data.confidence,
        "visibility": data.visibility,
        "named": data.named,
        "source_key": source_key,
        "created_at": now,
        "updated_at": now,
    }


async def find_by_source(session: AsyncSession, source_key: str) -> CheckIn | None:
    return (await session.execute(_by_source(), {"key": source_key})).scalar_one_or_none()


async def record(
    session: AsyncSession,
    experiment: Experiment,
    member_id: int,
    data: CheckInData,
    *,
    source_key: str | None,
    now: datetime,
) -> tuple[CheckIn, bool]:
    """Save a check-in. A replayed submit (same source_key) returns the first one: (row, False),
    even once the experiment has concluded."""
    if experiment.status != experiments.RUNNING:
        existing = await find_by_source(session, source_key) if source_key else None
        if existing is not None:
            return existing, False
        experiments.require_running(experiment)
    values = _values(experiment.id, member_id, data, source_key, now)
    if not source_key:
        checkin = CheckIn(**values)
        session.add(checkin)
        await session.flush()
        return checkin, True
    # One statement in the common case: insert unless the key is taken, returning the row. A
    # replay (or a concurrent one) finds the key taken and reads the first row instead.
    stmt = _insert_unless_replayed(session.get_bind().dialect.name)
    inserted = (await session.execute(stmt, values)).scalar()
    if inserted is not None:
        return CheckIn(id=inserted, **values), True  # the row as stored, not loaded again
    row = await find_by_source(session, source_key)
    assert row is not None
    return row, False


@dataclass(frozen=True)
class Saved:
    """A check-in just stored, as its confirmation shows it (no ORM object to build)."""

    id: int
    experiment_id: int
    visibility: str
    named: bool


async def record_if_running(
    session: AsyncSession,
    experiment_id: int,
    member_id: int,
    group_id: int | None,
    data: CheckInData,
    *,
    source_key: str | None,
    now: datetime,
) -> Saved | None:
    """Save a check-in on the experiment with this id if it is running here (a channel of group
    `group_id`; a DM when that is None), in one statement. None when nothing was saved: the
    experiment is not running here, or `source_key` is taken (a replay); `record` after
    `find_experiment` tells which."""
    values = _values(experiment_id, member_id, data, source_key, now)
    params = {**values, "experiment": experiment_id, "member": member_id, "group": group_id}
    stmt = _insert_if_running(session.get_bind().dialect.name, group_id is None)
    inserted = (await session.execute(stmt, params)).scalar()
    if inserted is None:
        return None
    return Saved(inserted, experiment_id, data.visibility, data.named)


@dataclass(frozen=True)
class NewCheckIn:
    """One check-in for `record_many`."""

    experiment_id: int
    member_id: int
    data: CheckInData
    source_key: str | None = None


async def record_many(session: AsyncSession, items: Sequence[NewCheckIn], *, now: datetime) -> int:
    """Save many check-ins with `record`'s rules, in one statement: every experiment must be
    running, and a source_key seen before (stored earlier, or earlier in `items`) stores
    nothing. Returns how many were stored. For imports and other bulk writers: a command saves
    one check-in with `record`."""
    if not items:
        return 0
    wanted = {item.experiment_id for item in items}
    query = select(Experiment).where(Experiment.id.in_(wanted))
    found = {e.id: e for e in (await session.execute(query)).scalars()}
    for experiment_id in sorted(wanted):
        experiment = found.get(experiment_id)
        if experiment is None:
            raise NotFound(f"There is no experiment #{experiment_id}.")
        experiments.require_running(experiment)
    rows = [row_of(item, now) for item in items]
    plain = [row for row in rows if not row["source_key"]]
    keyed = {str(row["source_key"]): row for row in reversed(rows) if row["source_key"]}
    if keyed:  # a key stored before stores nothing; the first of repeated keys wins
        seen = select(CheckIn.source_key).where(CheckIn.source_key.in_(list(keyed)))
        for key in (await session.execute(seen)).scalars():
            keyed.pop(str(key), None)
    fresh = plain + list(reversed(keyed.values()))
    if not fresh:
        return 0
    # executemany without RETURNING: on PostgreSQL psycopg pipelines it, several times faster
    # than the multi-row INSERT … RETURNING that would be needed to count what was inserted.
    # A concurrent writer of the same key is still stopped by the unique key.
    table: Any = CheckIn.__table__
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stmt = dialect.insert(table).on_conflict_do_nothing(index_elements=["source_key"])
    await session.execute(stmt, fresh)
    return len(fresh)


async def get_checkin(session: AsyncSession, checkin_id: int) -> CheckIn:
    checkin = await session.get(CheckIn, checkin_id)
    if checkin is None:
        raise NotFound(f"There is no check-in #{checkin_id}.")
    return checkin


async def get_own(
    session: AsyncSession, checkin_id: int, member_id: int, where: Here | None = None
) -> CheckIn:
    """The member's own check-in; someone else's is reported like a missing one, and so is one
    on another group's experiment when `where` is a group's channel."""
    checkin = await session.get(CheckIn, checkin_id)
    if checkin is not None and checkin.member_id == member_id:
        if where is None or where.is_dm:
            return checkin
        experiment = await session.get(Experiment, checkin.experiment_id)
        if experiment is not None and where.in_group(experiment.group_id):
            return checkin
    raise NotFound(f"You have no check-in #{checkin_id} here. Only its author can edit a check-in.")


def as_fields(checkin: CheckIn) -> dict[str, str]:
    """A check-in's values as form fields, to prefill the edit form."""
    return {
        "happened": checkin.happened,
        "learned": checkin.learned,
        "next": checkin.next,
        "surprise": str(checkin.surprise),
        "confidence": str(checkin.confidence),
        "visibility": checkin.visibility,
        "named": "yes" if checkin.named else "no",
    }


async def edit(
    session: AsyncSession, checkin_id: int, member_id: int, data: CheckInData, *, now: datetime
) -> CheckIn:
    checkin = await get_own(session, checkin_id, member_id)
    checkin.happened = data.happened
    checkin.learned = data.learned
    checkin.next = data.next
    checkin.surprise = data.surprise
    checkin.confidence = data.confidence
    checkin.visibility = data.visibility
    checkin.named = data.named
    checkin.updated_at = now
    await session.flush()
    return checkin


async def visible_on(
    session: AsyncSession,
    experiment: Experiment,
    *,
    viewer_id: int,
    viewer_role: Role,
    in_group: bool,
    limit: int = 20,
) -> tuple[list[VisibleCheckIn], int]:
    """The latest check-ins on `experiment` the viewer may read, and how many there are in all.

    Outside the experiment's group (`in_group` False) a viewer reads only their own."""
    if in_group:
        allowed = privacy.visible_clause(
            CheckIn.visibility, CheckIn.member_id, viewer_id, viewer_role
        )
    else:
        allowed = CheckIn.member_id == viewer_id
    where = (CheckIn.experiment_id == experiment.id, allowed)
    total = (await session.execute(select(func.count(CheckIn.id)).where(*where))).scalar_one()
    query = (
        select(CheckIn, Member.display_name)
        .join(Member, CheckIn.member_id == Member.id)
        .where(*where)
        .order_by(CheckIn.created_at.desc(), CheckIn.id.desc())
        .limit(limit)
    )
    out = []
    for checkin, name in (await session.execute(query)).all():
        # Defence in depth: the SQL filter and the rule must agree.
        if in_group and not privacy.can_see(
            checkin.visibility, checkin.member_id, viewer_id, viewer_role
        ):
            continue
        label = privacy.author_label(
            named=checkin.named, name=name, author_id=checkin.member_id, viewer_id=viewer_id
        )
        out.append(VisibleCheckIn(checkin, label))
    out.reverse()  # oldest first reads as a story
    return out, int(total)


def row_of(item: NewCheckIn, now: datetime) -> dict[str, Any]:
    """The checkins row for one new check-in, as a batch insert writes it."""
    return {
        "experiment_id": item.experiment_id,
        "member_id": item.member_id,
        "happened": item.data.happened,
        "learned": item.data.learned,
        "next": item.data.next,
        "surprise": item.data.surprise,
        "confidence": item.data.confidence,
        "visibility": item.data.visibility,
        "named": item.data.named,
        "source_key": item.source_key,
        "created_at": now,
        "updated_at": now,
    }

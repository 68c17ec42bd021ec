"""Who sees what, and every member's right to take their data out or have it removed.

The visibility rules live here once: commands, digests and summaries all ask `can_see` (or use
`visible_clause` in a query) instead of deciding for themselves."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from bot.domain import Role, Visibility
from bot.errors import NotFound
from bot.files import write_atomic
from bot.store.models import (
    CheckIn,
    Cycle,
    Delivery,
    Experiment,
    Group,
    Member,
    Response,
    Round,
    RoundRecipient,
)

# The only visibility a digest, a summariser or a channel post may ever use.
SHAREABLE: tuple[str, ...] = (Visibility.GROUP.value,)
VISIBILITIES: tuple[str, ...] = tuple(v.value for v in Visibility)
ANONYMOUS = "a member"

PRIVACY_TEXT = """\
*Your privacy in Learning Cycles*
Every check-in and every answer has a visibility you choose:
• *group*: the members of the learning group can read it, and it may be quoted in the group's \
digest.
• *facilitators*: only the group's facilitators (and you) can read it. It never reaches a digest, \
a summary or another member.
• *private*: only you can read it. Nobody else, facilitators included, ever sees it.
Quotes are anonymous by default: digests and `experiment show` say "a member". Your name appears \
only on entries where you chose named=yes, and you can change that with `checkin edit <id>`.
Digests never list who did not answer; only facilitators can see who has not answered a round \
yet.
Your data is yours:
• `export` gives you everything the bot holds about you as a JSON file: your profile, check-ins, \
round answers, the experiments you own and the cycles you created.
• `forget-me` deletes your check-ins, your answers, the messages queued for you, the experiments \
you own that nobody else checked in on, and your profile. Experiments others checked in on stay \
for the group, without your name. Digests already posted stay in the channel's history."""


def can_see(
    entry_visibility: str, entry_author_id: int | None, viewer_id: int, viewer_role: Role
) -> bool:
    """Whether `viewer` may read an entry. The author always sees their own entries."""
    if entry_author_id is not None and entry_author_id == viewer_id:
        return True
    if entry_visibility == Visibility.GROUP:
        return True
    if entry_visibility == Visibility.FACILITATORS:
        return viewer_role >= Role.FACILITATOR
    return False  # private, or anything unknown: closed by default


def visible_clause(
    visibility: QueryableAttribute[str],
    author: QueryableAttribute[int],
    viewer_id: int,
    viewer_role: Role,
) -> ColumnElement[bool]:
    """`can_see` as a SQL condition, for counting and listing entries in one query."""
    shown = [Visibility.GROUP.value]
    if viewer_role >= Role.FACILITATOR:
        shown.append(Visibility.FACILITATORS.value)
    return or_(author == viewer_id, visibility.in_(shown))


def audience(visibility: str) -> str:
    """Plain words for who can read an entry with `visibility`."""
    return {
        Visibility.GROUP.value: "the group",
        Visibility.FACILITATORS.value: "facilitators and you",
        Visibility.PRIVATE.value: "only you",
    }.get(visibility, "only you")


def author_label(*, named: bool, name: str | None, author_id: int | None, viewer_id: int) -> str:
    """How an entry's author appears: 'you', their name if they consented, else anonymous."""
    if author_id is not None and author_id == viewer_id:
        return "you"
    if named and name:
        return name
    return ANONYMOUS


# --- export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataCounts:
    checkins: int
    responses: int
    experiments: int
    cycles: int


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _member(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound("There is no data about you here.")
    return member


async def collect_export(session: AsyncSession, member_id: int) -> dict[str, Any]:
    """Everything the bot holds about one member, as plain JSON-ready values."""
    member = await _member(session, member_id)
    checkin_rows = (
        await session.execute(
            select(CheckIn, Experiment.title)
            .join(Experiment, CheckIn.experiment_id == Experiment.id)
            .where(CheckIn.member_id == member_id)
            .order_by(CheckIn.id)
        )
    ).all()
    response_rows = (
        await session.execute(
            select(Response, Round)
            .join(Round, Response.round_id == Round.id)
            .where(Response.member_id == member_id)
            .order_by(Response.id)
        )
    ).all()
    experiment_rows = (
        await session.execute(
            select(Experiment, Group.name)
            .join(Group, Experiment.group_id == Group.id)
            .where(Experiment.owner_id == member_id)
            .order_by(Experiment.id)
        )
    ).all()
    cycles = (
        await session.execute(select(Cycle).where(Cycle.created_by == member_id).order_by(Cycle.id))
    ).scalars()
    return {
        "member": {
            "platform": member.workspace.platform,
            "workspace": member.workspace.external_id,
            "user_id": member.user_id,
            "display_name": member.display_name,
            "timezone": member.timezone,
            "role": member.role,
            "away_until": member.away_until.isoformat() if member.away_until else None,
            "created_at": _iso(member.created_at),
        },
        "checkins": [
            {
                "id": c.id,
                "experiment_id": c.experiment_id,
                "experiment_title": title,
                "happened": c.happened,
                "learned": c.learned,
                "next": c.next,
                "surprise": c.surprise,
                "confidence": c.confidence,
                "visibility": c.visibility,
                "named": c.named,
                "created_at": _iso(c.created_at),
                "updated_at": _iso(c.updated_at),
            }
            for c, title in checkin_rows
        ],
        "responses": [
            {
                "id": r.id,
                "round_id": r.round_id,
                "round_title": rnd.title,
                "prompt_key": r.prompt_key,
                "prompt": _prompt_text(rnd, r.prompt_key),
                "text": r.text,
                "surprise": r.surprise,
                "visibility": r.visibility,
                "named": r.named,
                "created_at": _iso(r.created_at),
                "updated_at": _iso(r.updated_at),
            }
            for r, rnd in response_rows
        ],
        "experiments": [
            {
                "id": e.id,
                "group": group_name,
                "cycle_id": e.cycle_id,
                "adopted_from_id": e.adopted_from_id,
                "title": e.title,
                "hypothesis": e.hypothesis,
                "try": e.try_,
                "expect": e.expect,
                "status": e.status,
                "learned": e.learned,
                "verdict": e.verdict,
                "started_at": _iso(e.started_at),
                "concluded_at": _iso(e.concluded_at),
            }
            for e, group_name in experiment_rows
        ],
        "cycles": [
            {
                "id": c.id,
                "group_id": c.group_id,
                "name": c.name,
                "question": c.question,
                "scale": c.scale,
                "parent_id": c.parent_id,
                "created_at": _iso(c.created_at),
            }
            for c in cycles
        ],
    }


def _prompt_text(rnd: Round, key: str) -> str | None:
    for prompt in rnd.prompts:
        if prompt.get("key") == key:
            return str(prompt.get("text", ""))
    return None


def counts_of(export: dict[str, Any]) -> DataCounts:
    return DataCounts(
        checkins=len(export["checkins"]),
        responses=len(export["responses"]),
        experiments=len(export["experiments"]),
        cycles=len(export["cycles"]),
    )


_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def export_path(data_dir: Path, platform: str, user_id: str, now: datetime) -> Path:
    """data_dir/exports/<platform>-<user>-<timestamp>.json, safe as a file name on any system."""
    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    user = _UNSAFE.sub("_", user_id)[:64] or "user"
    return data_dir / "exports" / f"{_UNSAFE.sub('_', platform)}-{user}-{stamp}.json"


def _write(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
    # Private entries are in here: readable by the bot's user only.
    write_atomic(path, text, what="the export", mode=0o600)


async def write_export(path: Path, data: dict[str, Any]) -> Path:
    await asyncio.to_thread(_write, path, data)
    return path


# --- forget-me --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forgotten:
    checkins: int
    responses: int
    deliveries: int
    experiments_deleted: int
    experiments_kept: int


async def forget_member(session: AsyncSession, member_id: int) -> Forgotten:
    """Delete one member and what is theirs, inside the caller's transaction.

    Experiments others checked in on stay for the group, with no owner."""
    member = await _member(session, member_id)
    ws = member.workspace
    checkins = await _rowcount(session, delete(CheckIn).where(CheckIn.member_id == member_id))
    responses = await _rowcount(session, delete(Response).where(Response.member_id == member_id))
    addressed = or_(
        Delivery.member_id == member_id,
        and_(
            Delivery.target_kind == "dm",
            Delivery.platform == ws.platform,
            Delivery.workspace == ws.external_id,
            Delivery.target == member.user_id,
        ),
    )
    deliveries = await _rowcount(session, delete(Delivery).where(addressed))
    await session.execute(delete(RoundRecipient).where(RoundRecipient.member_id == member_id))
    others = (
        select(func.count(CheckIn.id))
        .where(CheckIn.experiment_id == Experiment.id)
        .correlate(Experiment)
        .scalar_subquery()
    )
    owned = Experiment.owner_id == member_id
    deleted = await _rowcount(session, delete(Experiment).where(owned, others == 0))
    kept = await _rowcount(session, update(Experiment).where(owned).values(owner_id=None))
    await session.execute(delete(Member).where(Member.id == member_id))
    session.expunge(member)
    return Forgotten(checkins, responses, deliveries, deleted, kept)


async def _rowcount(session: AsyncSession, stmt: Any) -> int:
    result: Any = await session.execute(stmt.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)

"""Autocomplete for ids: experiments, cycles and rounds as the person types, from the database.

Only titles are offered, never entries; the channel's own group comes first. Discord shows at
most 25 suggestions and needs them within 3 seconds, so each query is small and indexed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import case, select

from bot.commands.registry import CommandSpec
from bot.domain import ChannelRef
from bot.services.groups import group_for_channel
from bot.store.database import Database
from bot.store.models import Cycle, Experiment, Round

LIMIT = 25
NAME_LIMIT = 100


@dataclass(frozen=True)
class Suggestion:
    name: str
    value: str | int


def _matches(typed: str, ident: int, title: str) -> bool:
    typed = typed.strip().lower().removeprefix("#")
    return not typed or str(ident).startswith(typed) or typed in title.lower()


def _label(ident: int, title: str, extra: str = "") -> str:
    text = f"#{ident} {title}" + (f" ({extra})" if extra else "")
    return text if len(text) <= NAME_LIMIT else text[: NAME_LIMIT - 1] + "…"


def _suggest(rows: Sequence[Any], typed: str, as_int: bool) -> list[Suggestion]:
    """(id, title, note) rows that match what was typed, as at most 25 suggestions."""
    out = [
        Suggestion(_label(i, title, note), i if as_int else str(i))
        for i, title, note in rows
        if _matches(typed, i, title)
    ]
    return out[:LIMIT]


async def _group_id(db: Database, channel: ChannelRef) -> int | None:
    async with db.begin() as session:
        group = None if channel.is_dm else await group_for_channel(session, channel)
        return group.id if group is not None else None


async def experiments(
    db: Database, channel: ChannelRef, typed: str, *, as_int: bool
) -> list[Suggestion]:
    group_id = await _group_id(db, channel)
    mine_first = case((Experiment.group_id == group_id, 0), else_=1)
    running_first = case((Experiment.status == "running", 0), else_=1)
    query = (
        select(Experiment.id, Experiment.title, Experiment.status)
        .order_by(mine_first, running_first, Experiment.id.desc())
        .limit(500)
    )
    async with db.begin() as session:
        rows = (await session.execute(query)).all()
    return _suggest(rows, typed, as_int)


async def cycles(
    db: Database, channel: ChannelRef, typed: str, *, as_int: bool
) -> list[Suggestion]:
    group_id = await _group_id(db, channel)
    mine_first = case((Cycle.group_id == group_id, 0), else_=1)
    query = (
        select(Cycle.id, Cycle.name, Cycle.scale).order_by(mine_first, Cycle.id.desc()).limit(500)
    )
    async with db.begin() as session:
        rows = (await session.execute(query)).all()
    return _suggest(rows, typed, as_int)


async def rounds(
    db: Database, channel: ChannelRef, typed: str, *, as_int: bool
) -> list[Suggestion]:
    group_id = await _group_id(db, channel)
    if group_id is None:
        return []
    query = (
        select(Round.id, Round.title, Round.state)
        .where(Round.group_id == group_id)
        .order_by(Round.id.desc())
        .limit(200)
    )
    async with db.begin() as session:
        rows = (await session.execute(query)).all()
    return _suggest(rows, typed, as_int)


def commands(specs: Sequence[CommandSpec], typed: str) -> list[Suggestion]:
    typed = typed.strip().lower()
    names = [s.name for s in specs if typed in s.name]
    return [Suggestion(n, n) for n in names[:LIMIT]]


def templates(keys: Sequence[str], typed: str) -> list[Suggestion]:
    typed = typed.strip().lower()
    return [Suggestion(k, k) for k in sorted(keys) if typed in k][:LIMIT]

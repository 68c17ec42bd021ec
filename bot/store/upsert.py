"""Insert-if-absent on a natural key, on SQLite and PostgreSQL alike: the idempotency primitive."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.store.base import Base

M = TypeVar("M", bound=Base)


async def insert_ignore(
    session: AsyncSession, model: type[M], values: dict[str, Any], keys: Sequence[str]
) -> bool:
    """Insert a row unless one with the same `keys` exists. True when this call inserted it."""
    stmt = _insert_ignore(model.__table__, session.get_bind().dialect.name, tuple(keys))
    result: Any = await session.execute(stmt, values)
    return result.first() is not None


@functools.cache
def _insert_ignore(table: Any, dialect: str, keys: tuple[str, ...]) -> Any:
    """Built once per table and key: the values come as parameters, so SQLAlchemy reuses the
    statement's cache key and compiled form (every command claims its trigger id with one)."""
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    # RETURNING, not rowcount: psycopg reports -1 for an insert that PostgreSQL skipped.
    return insert.on_conflict_do_nothing(index_elements=list(keys)).returning(
        *table.primary_key.columns
    )


async def get_or_create(
    session: AsyncSession, model: type[M], keys: dict[str, Any], defaults: dict[str, Any]
) -> M:
    """The row with `keys`, created with `defaults` if absent; a concurrent creator wins cleanly."""
    await insert_ignore(session, model, {**defaults, **keys}, list(keys))
    query = select(model).filter_by(**keys)
    row = (await session.execute(query)).scalar_one()
    return row


async def upsert(
    session: AsyncSession,
    model: type[M],
    values: dict[str, Any],
    keys: Sequence[str],
    changes: Sequence[str],
) -> None:
    """Insert a row, or when one with the same `keys` exists set its `changes` columns from
    `values`: one row per natural key whatever the races."""
    table: Any = model.__table__
    insert: Any = (
        postgresql.insert(table)
        if session.get_bind().dialect.name == "postgresql"
        else sqlite.insert(table)
    ).values(**values)
    stmt = insert.on_conflict_do_update(
        index_elements=keys, set_={name: insert.excluded[name] for name in changes}
    )
    await session.execute(stmt)

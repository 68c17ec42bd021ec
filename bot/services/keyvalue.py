"""The adapters' small memory (bot.ports.KeyValueStore) over app_state and processed_events."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Platform
from bot.services.events import claim_event
from bot.store.database import Database
from bot.store.models import AppState
from bot.store.upsert import insert_ignore


@dataclass(frozen=True)
class StateStore:
    db: Database

    async def get(self, key: str) -> str | None:
        async with self.db.begin() as session:
            row = await session.get(AppState, key)
            return row.value if row is not None else None

    async def put(self, key: str, value: str) -> None:
        async with self.db.begin() as session:
            if not await insert_ignore(session, AppState, {"key": key, "value": value}, ["key"]):
                await session.execute(
                    update(AppState).where(AppState.key == key).values(value=value)
                )

    async def add(self, key: str, value: str) -> bool:
        async def add(session: AsyncSession) -> bool:
            return await insert_ignore(session, AppState, {"key": key, "value": value}, ["key"])

        return await self.db.write(add)

    async def claim(self, platform: Platform, event_id: str) -> bool:
        # Adapters claim every command and event before handling it: under a burst these are
        # fifty writers at once, so they are committed together (bot/store/groupcommit.py).
        async def claim(session: AsyncSession) -> bool:
            return await claim_event(session, str(platform), event_id[:128])

        return await self.db.write(claim)

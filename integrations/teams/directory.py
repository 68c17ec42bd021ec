"""What the adapter must remember to write first (a proactive message): each tenant's Bot
Connector address and the bot's id there, learned from every inbound activity, and the personal
chat opened with each person. Kept in the port's key-value store, so a restart or another
replica knows them, and in bounded caches so a fan-out reads the database once per person."""

from __future__ import annotations

from bot.ports import KeyValueStore
from integrations.common.cache import BoundedCache

# Personal chats remembered in memory (the store keeps them all).
CHAT_CACHE = 50_000


class Directory:
    def __init__(self, store: KeyValueStore, *, capacity: int = CHAT_CACHE) -> None:
        self._store = store
        self._known: dict[str, str] = {}
        self._chats: BoundedCache[str, str] = BoundedCache(capacity)

    async def _remember(self, key: str, value: str) -> None:
        if value and self._known.get(key) != value:
            await self._store.put(key, value)
            self._known[key] = value

    async def _recall(self, key: str) -> str | None:
        if key not in self._known:
            found = await self._store.get(key)
            if found is None:
                return None
            self._known[key] = found
        return self._known[key]

    async def learn(self, tenant: str, service_url: str, bot_id: str) -> None:
        """What an inbound activity says about its tenant (a write only when it changed)."""
        await self._remember(f"teams:service:{tenant}", service_url)
        await self._remember(f"teams:bot:{tenant}", bot_id)

    async def service_url(self, tenant: str) -> str | None:
        return await self._recall(f"teams:service:{tenant}")

    async def bot_id(self, tenant: str) -> str | None:
        return await self._recall(f"teams:bot:{tenant}")

    async def chat(self, tenant: str, user: str) -> str | None:
        """The personal chat's conversation id with `user`, if one was opened."""
        key = f"teams:chat:{tenant}:{user}"
        found = self._chats.get(key)
        if found is None:
            found = await self._store.get(key)
            if found:
                self._chats.put(key, found)
        return found or None

    async def remember_chat(self, tenant: str, user: str, conversation: str) -> None:
        key = f"teams:chat:{tenant}:{user}"
        if self._chats.get(key) != conversation:
            self._chats.put(key, conversation)
            await self._store.put(key, conversation)

    async def forget_chat(self, tenant: str, user: str) -> None:
        """Teams no longer has this chat: the next send opens a new one. (The store has no
        delete: an empty value counts as none.)"""
        key = f"teams:chat:{tenant}:{user}"
        self._chats.pop(key)
        await self._store.put(key, "")

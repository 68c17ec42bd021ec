"""The outbound seam: what every platform adapter implements, and the registry jobs post through.
An adapter is made from a bot.ports.Port (the inbound side) and sees nothing else of the core."""

from __future__ import annotations

from typing import Protocol

from bot.domain import ChannelRef, MemberInfo, Message, Platform


class Adapter(Protocol):
    platform: Platform

    async def start(self) -> None:
        """Connect and begin taking commands; returns once the adapter is ready."""

    async def stop(self) -> None:
        """Stop intake and finish what is in flight."""

    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        """Post `message` (as a DM when `to.dm_user` is set) and return the platform message id.

        Raise DeliveryRetry for a transient failure and DeliveryFailed for a permanent one.
        `key` is the outbox key, for adapters that can tag messages to detect a repeat."""

    async def channel_members(self, channel: ChannelRef) -> list[MemberInfo]:
        """Every human, active member of the channel (bots and deactivated users left out)."""


class AdapterRegistry:
    """Adapters by platform. Scheduled jobs and the outbox find the right one here."""

    def __init__(self) -> None:
        self._adapters: dict[Platform, Adapter] = {}

    def add(self, adapter: Adapter) -> None:
        self._adapters[adapter.platform] = adapter

    def get(self, platform: Platform | str) -> Adapter | None:
        return self._adapters.get(Platform(platform))

    def all(self) -> list[Adapter]:
        return list(self._adapters.values())

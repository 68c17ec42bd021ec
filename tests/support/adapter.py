"""A recording adapter for service tests: it implements the seam, keeps what was sent, and can
be told to fail for some recipients. Platform adapters are tested against their own fakes."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.domain import ChannelRef, MemberInfo, Message, Platform
from bot.errors import DeliveryFailed, DeliveryRetry


@dataclass
class Sent:
    to: ChannelRef
    message: Message
    key: str


@dataclass
class RecordingAdapter:
    platform: Platform = Platform.CONSOLE
    members: dict[str, list[MemberInfo]] = field(default_factory=dict)  # channel -> members
    sent: list[Sent] = field(default_factory=list)
    fail_permanently: set[str] = field(default_factory=set)  # user ids with closed DMs
    fail_transiently: dict[str, int] = field(default_factory=dict)  # user id -> failures left

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        who = to.dm_user or to.channel
        if who in self.fail_permanently:
            raise DeliveryFailed("cannot_dm_user")
        if self.fail_transiently.get(who, 0) > 0:
            self.fail_transiently[who] -= 1
            raise DeliveryRetry("rate_limited", after=0.0)
        self.sent.append(Sent(to, message, key))
        return f"m{len(self.sent)}"

    async def channel_members(self, channel: ChannelRef) -> list[MemberInfo]:
        return list(self.members.get(channel.channel, []))

    def dms_to(self, user_id: str) -> list[Sent]:
        return [s for s in self.sent if s.to.dm_user == user_id]

"""Who acts and where: platform-neutral identities."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Platform(StrEnum):
    CONSOLE = "console"
    SLACK = "slack"
    DISCORD = "discord"
    TEAMS = "teams"


class Role(IntEnum):
    """Ordered: a higher role may do everything a lower one may."""

    MEMBER = 0
    LEADER = 1
    FACILITATOR = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()


class Visibility(StrEnum):
    GROUP = "group"
    FACILITATORS = "facilitators"
    PRIVATE = "private"


@dataclass(frozen=True)
class ChannelRef:
    """A place a message can go: a channel, or a DM when `dm_user` is set."""

    platform: Platform
    workspace: str
    channel: str
    dm_user: str | None = None
    # The channel's human name when the platform told us ("frontline-team"); not part of identity.
    name: str = field(default="", compare=False)

    @property
    def is_dm(self) -> bool:
        return self.dm_user is not None

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.workspace}:{self.channel}"


@dataclass(frozen=True)
class Actor:
    """The person behind a command, as the adapter knows them."""

    platform: Platform
    workspace: str
    user_id: str
    display_name: str
    timezone: str | None = None
    # Adapters set these from the platform (workspace admin, Manage Server, configured roles).
    platform_role: Role = Role.MEMBER

    @property
    def key(self) -> str:
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class MemberInfo:
    """A channel member as the adapter reports them (no bots, no deactivated users)."""

    user_id: str
    display_name: str
    timezone: str | None = None

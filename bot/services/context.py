"""What a use case needs: the long-lived dependencies and the person invoking it."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from bot.adapters import AdapterRegistry
from bot.config import Settings
from bot.domain import Actor, ChannelRef, Role
from bot.errors import PermissionDenied
from bot.services.templates import RoundTemplateSpec
from bot.store.database import Database
from bot.summarise import Summariser


@dataclass
class Deps:
    """Built once by the composition root (bot/app.py); nothing here is global."""

    settings: Settings
    db: Database
    adapters: AdapterRegistry
    templates: Mapping[str, RoundTemplateSpec]
    summariser: Summariser
    clock: Callable[[], datetime]
    # Called after a use case queued deliveries, so the outbox drains without waiting for a poll.
    notify_outbox: Callable[[], None] = field(default=lambda: None)


@dataclass(frozen=True)
class Invocation:
    """One command from one person in one place."""

    deps: Deps
    actor: Actor
    channel: ChannelRef
    member_id: int
    role: Role
    # The platform's id for this interaction (Slack trigger, Discord interaction): makes a
    # replayed submit a no-op.
    source_key: str | None = None
    # Read with the member, in the same statement (members.known): the channel's group (None
    # in a DM or a channel with no group yet), its timezone, and the member's own timezone.
    group_id: int | None = None
    group_timezone: str | None = None
    member_timezone: str | None = None

    def require(self, role: Role, doing: str) -> None:
        if self.role < role:
            article = "an" if role.label[0] in "aeiou" else "a"
            raise PermissionDenied(f"Only {article} {role.label} can {doing}.")

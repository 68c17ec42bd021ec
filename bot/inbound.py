"""The core's side of the inbound port (bot/ports.py): built once by the composition root."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from bot.commands import Dispatcher
from bot.config import Settings
from bot.domain import Actor, ChannelRef, Platform
from bot.domain.views import CommandInfo, Home, Lookup, LookupKind, Result, SentMessage
from bot.metrics import Metrics
from bot.ports import KeyValueStore, Listener
from bot.services import views
from bot.services.keyvalue import StateStore


class CorePort:
    """What adapters get instead of the application: the dispatcher and named read models."""

    def __init__(
        self,
        dispatcher: Dispatcher,
        metrics: Metrics,
        listener: Callable[[str, int], Listener] | None = None,
    ) -> None:
        self._dispatcher = dispatcher
        self._listener = listener
        self._deps = dispatcher.deps
        self._metrics = metrics
        self._store = StateStore(self._deps.db)
        self._commands = tuple(
            CommandInfo(s.path, s.usage, s.summary, s.fields, s.params) for s in dispatcher.specs
        )

    @property
    def settings(self) -> Settings:
        return self._deps.settings

    @property
    def metrics(self) -> Metrics:
        return self._metrics

    @property
    def clock(self) -> Callable[[], datetime]:
        return self._deps.clock

    @property
    def store(self) -> KeyValueStore:
        return self._store

    @property
    def commands(self) -> Sequence[CommandInfo]:
        return self._commands

    @property
    def template_keys(self) -> Sequence[str]:
        return sorted(self._deps.templates)

    def listener(self, host: str, port: int) -> Listener:
        # None: a port made without an app (tests of the read models), which serves no HTTP.
        if self._listener is None:
            raise RuntimeError("this port has no listeners: build it through bot.app.App")
        return self._listener(host, port)

    async def handle(
        self,
        actor: Actor,
        channel: ChannelRef,
        text: str,
        fields: dict[str, str] | None = None,
        source_key: str | None = None,
        once: bool = False,
    ) -> Result:
        return await self._dispatcher.handle(
            actor, channel, text, fields=fields, source_key=source_key, once=once
        )

    async def reply(self, actor: Actor, round_id: int, text: str) -> Result:
        return await self._dispatcher.handle_reply(actor, round_id, text)

    async def home(self, platform: Platform, workspace: str, user_id: str) -> Home:
        return await views.home_for(self._deps.db, platform, workspace, user_id)

    async def lookups(self, kind: LookupKind, channel: ChannelRef) -> list[Lookup]:
        return await views.lookups(self._deps.db, kind, channel)

    async def templates_here(self, channel: ChannelRef) -> list[str]:
        return await views.template_keys(self._deps.db, channel, self._deps.templates)

    async def sent(self, platform: Platform, message_id: str) -> SentMessage | None:
        return await views.sent_message(self._deps.db, platform, message_id)

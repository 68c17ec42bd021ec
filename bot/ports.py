"""The inbound port: everything an adapter may ask of the core, and nothing else.

Adapters get a `Port` instead of the whole application. Every path from a person (a command, a
submitted form, a reply typed in a prompt's thread) goes through the dispatcher, so it takes a
turn, is counted, and fails with the dispatcher's one-line answer. Reads are named read models
returning plain values; what an adapter must remember goes through `KeyValueStore`. This module
imports no storage, so an adapter importing it loads none."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from bot.config import Settings
from bot.domain import Actor, ChannelRef, Platform
from bot.domain.views import CommandInfo, Home, Lookup, LookupKind, Result, SentMessage
from bot.metrics import Metrics

if TYPE_CHECKING:
    from aiohttp import web

__all__ = ["KeyValueStore", "Listener", "Port", "Result"]


class KeyValueStore(Protocol):
    """Small facts an adapter keeps across restarts and replicas (a command-tree hash, a long
    button's command, event ids already handled)."""

    async def get(self, key: str) -> str | None:
        """The value under `key`, or None."""

    async def put(self, key: str, value: str) -> None:
        """Store `value` under `key`, replacing what was there."""

    async def add(self, key: str, value: str) -> bool:
        """Store `value` under `key` unless the key is taken; True when it was stored."""

    async def claim(self, platform: Platform, event_id: str) -> bool:
        """True the first time `event_id` is seen on `platform`, False on every repeat."""


class Listener(Protocol):
    """The HTTP server on one host and port, shared by every adapter configured on it. It
    starts listening after every adapter has mounted, and stops after they all stopped."""

    @property
    def host(self) -> str: ...

    @property
    def port(self) -> int:
        """The port asked for until it is bound, then the one bound (0 asks for any)."""

    def mount(
        self, name: str, prefix: str, app: web.Application, accepting: Callable[[], bool]
    ) -> None:
        """Serve `app`'s routes under `prefix` (`request.app` is `app` in its handlers).
        `accepting` says whether `name` takes requests now: the listener's /healthz is 200
        only while every mounted adapter does."""


class Port(Protocol):
    @property
    def settings(self) -> Settings: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def clock(self) -> Callable[[], datetime]: ...

    @property
    def store(self) -> KeyValueStore: ...

    @property
    def commands(self) -> Sequence[CommandInfo]:
        """Every command, in the order `help` lists them."""

    @property
    def template_keys(self) -> Sequence[str]:
        """The round templates' keys, sorted."""

    def listener(self, host: str, port: int) -> Listener:
        """The listener on `host` and `port`: the same one for every adapter asking for it."""

    async def handle(
        self,
        actor: Actor,
        channel: ChannelRef,
        text: str,
        fields: dict[str, str] | None = None,
        source_key: str | None = None,
        once: bool = False,
    ) -> Result:
        """Run a command, or submit a form (`fields` are its values, merged over inline ones).
        `once`: the platform may deliver this command again under the same `source_key`; it
        runs once, and a repeat is answered with a Reply whose `repeat` is set (show nothing)."""

    async def reply(self, actor: Actor, round_id: int, text: str) -> Result:
        """A reply typed in a round prompt's thread: the answer to its first open question."""

    async def home(self, platform: Platform, workspace: str, user_id: str) -> Home:
        """What a member's home page shows."""

    async def lookups(self, kind: LookupKind, channel: ChannelRef) -> list[Lookup]:
        """Candidates for an id typed in `channel`: its own group's first, at most a few
        hundred, newest first within each part."""

    async def templates_here(self, channel: ChannelRef) -> list[str]:
        """The keys of the round templates a round started in `channel` can use, sorted: the
        shipped ones and its group's own."""

    async def sent(self, platform: Platform, message_id: str) -> SentMessage | None:
        """What a message the bot posted (its platform id) was for, if the bot posted it."""

"""Text (or a submitted form) -> the right use case -> a Reply or a Form. Never a stack trace."""

from __future__ import annotations

import asyncio
import difflib
import logging
import secrets
import time
import traceback
from collections import deque
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from bot.commands import forms
from bot.commands.parser import parse
from bot.commands.registry import CommandSpec, Result, find
from bot.domain import Actor, ChannelRef, Reply
from bot.errors import FieldErrors, NotSaved, UserError
from bot.services import members, rounds
from bot.services.context import Deps, Invocation

log = logging.getLogger(__name__)

# Commands run at once; more wait their turn, in order. Platforms take requests faster than the
# database can serve them: past a couple at once, more in flight only slows every one of them,
# and the acknowledgements platforms wait for, which share the event loop (measured with
# `make bench`: the acknowledgement rate under a burst rises from 0.6x to 0.8x bare slack-bolt
# going from four to two). On SQLite, writers would otherwise queue in its busy handler, which
# is neither fair nor patient.
CONCURRENT_COMMANDS = 2
# A turn is not held up by slow work for longer than this: when no running command has
# finished for this long (a model writing a digest, a platform slow to list a channel), the
# next ones go ahead anyway.
STALL_SECONDS = 1.0


class Turns:
    """At most `size` commands at once, first come first served, unless they stall: when no
    command has finished for `stall` seconds, everyone waiting goes ahead."""

    def __init__(self, size: int, stall: float) -> None:
        self._size = size
        self._stall = stall
        self._running = 0
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._finished = time.monotonic()
        self._watch: asyncio.TimerHandle | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        if self._running < self._size and not self._waiting:
            self._running += 1
        else:
            await self._wait()
        try:
            yield
        finally:
            self._finished = time.monotonic()
            self._release()

    async def _wait(self) -> None:
        waiter = asyncio.get_running_loop().create_future()
        self._waiting.append(waiter)
        self._arm()
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._release()  # given a turn just as it was cancelled: pass it on
            else:
                self._waiting.remove(waiter)
            raise

    def _release(self) -> None:
        """The next one waiting takes over the turn, or it is free again. Turns given out past
        `size` during a stall are not passed on."""
        if self._running <= self._size:
            while self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.done():
                    waiter.set_result(None)
                    return
        self._running -= 1

    def _arm(self) -> None:
        # One timer for the lot (not one per waiter): a burst queues thousands.
        if self._watch is None:
            self._watch = asyncio.get_running_loop().call_later(self._stall, self._check)

    def _check(self) -> None:
        self._watch = None
        if not self._waiting:
            return
        if time.monotonic() - self._finished >= self._stall:
            while self._waiting:
                waiter = self._waiting.popleft()
                if not waiter.done():
                    self._running += 1
                    waiter.set_result(None)
        self._arm()


class Dispatcher:
    def __init__(
        self,
        deps: Deps,
        specs: Sequence[CommandSpec],
        *,
        concurrency: int = CONCURRENT_COMMANDS,
        stall: float = STALL_SECONDS,
    ) -> None:
        self.deps = deps
        self.specs = list(specs)
        self._turns = Turns(concurrency, stall)

    async def handle(
        self,
        actor: Actor,
        channel: ChannelRef,
        text: str,
        *,
        fields: dict[str, str] | None = None,
        source_key: str | None = None,
    ) -> Result:
        """Run one command. `fields` are a submitted form's values, merged over inline ones."""
        async with self._turns.turn():
            return await self._handle(actor, channel, text, fields, source_key)

    async def handle_reply(self, actor: Actor, round_id: int, text: str) -> Result:
        """A reply typed in a round prompt's thread: it takes a turn and fails like a command."""
        async with self._turns.turn():
            try:
                return await rounds.answer_from_reply(self.deps, actor, round_id, text)
            except UserError as exc:
                return Reply.text(str(exc))
            except Exception as exc:
                return unexpected(exc)

    async def _handle(
        self,
        actor: Actor,
        channel: ChannelRef,
        text: str,
        fields: dict[str, str] | None,
        source_key: str | None,
    ) -> Result:
        try:
            parsed = parse(text)
            if not parsed.words:
                parsed.words = ["help"]
            found = find(self.specs, parsed.words)
            if found is None:
                return Reply.text(self._unknown(parsed.words[0]))
            spec, rest = found
            values = {**parsed.fields, **(fields or {})}
            async with self.deps.db.begin() as session:
                member = await members.ensure_member(session, actor)
                role = members.effective_role(member, actor, self.deps.settings)
                member_id = member.id
            inv = Invocation(self.deps, actor, channel, member_id, role, source_key)
            inv.require(spec.min_role, f"use `{spec.name}`")
            args = forms.clean_args(spec.fields, rest, values)
            return await spec.handler(inv, args)
        except NotSaved as exc:
            return Reply.text(str(exc))
        except FieldErrors as exc:
            return Reply.text(str(exc), errors=exc.errors)
        except UserError as exc:
            return Reply.text(str(exc))
        except Exception as exc:
            return unexpected(exc)

    def _unknown(self, word: str) -> str:
        names = sorted({spec.path[0] for spec in self.specs})
        close = difflib.get_close_matches(word.lower(), names, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        return f"Unknown command '{word[:40]}'.{hint} Type `help` for the list."


def unexpected(exc: Exception) -> Reply:
    """A failure nobody could fix by retyping: logged with a reference the person is given."""
    ref = secrets.token_hex(4)
    # Type and frames only: the message may quote entry text, which never reaches a log.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("command failed (ref %s): %s\n%s", ref, type(exc).__name__, frames)
    return Reply.text(f"Something went wrong on our side and nothing was saved. Reference: {ref}.")

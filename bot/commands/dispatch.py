"""Text (or a submitted form) -> the right use case -> a Reply or a Form. Never a stack trace."""

from __future__ import annotations

import difflib
import logging
import secrets
import traceback
from collections.abc import Sequence

from bot.commands import forms
from bot.commands.parser import parse
from bot.commands.registry import CommandSpec, Result, find
from bot.commands.turns import (
    CONCURRENT_COMMANDS,
    CONCURRENT_COMMANDS_SERVER,
    STALL_SECONDS,
    Turns,
)
from bot.domain import Actor, ChannelRef, Reply
from bot.errors import FieldErrors, NotSaved, UserError
from bot.services import members, rounds
from bot.services.context import Deps, Invocation
from bot.services.keyvalue import StateStore

log = logging.getLogger(__name__)


class Dispatcher:
    def __init__(
        self,
        deps: Deps,
        specs: Sequence[CommandSpec],
        *,
        concurrency: int | None = None,
        stall: float = STALL_SECONDS,
    ) -> None:
        self.deps = deps
        self.specs = list(specs)
        if concurrency is None:
            server = not deps.db.is_sqlite
            concurrency = CONCURRENT_COMMANDS_SERVER if server else CONCURRENT_COMMANDS
        self._turns = Turns(concurrency, stall)
        # A command waiting for its write to commit lets the next one run meanwhile, so that
        # a burst's writes meet in one transaction.
        deps.db.group.wait_with(self._turns.aside)

    async def handle(
        self,
        actor: Actor,
        channel: ChannelRef,
        text: str,
        *,
        fields: dict[str, str] | None = None,
        source_key: str | None = None,
        once: bool = False,
    ) -> Result:
        """Run one command. `fields` are a submitted form's values, merged over inline ones.
        With `once`, a delivery the platform may repeat: claimed by its source key first,
        unless the command's write is keyed by it (see CommandSpec.keyed)."""
        async with self._turns.turn():
            return await self._handle(actor, channel, text, fields, source_key, once)

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
        once: bool = False,
    ) -> Result:
        try:
            parsed = parse(text)
            if not parsed.words:
                parsed.words = ["help"]
            found = find(self.specs, parsed.words)
            if found is None:
                return Reply.text(self._unknown(parsed.words[0]))
            spec, rest = found
            if once and source_key and not spec.keyed and not await self._claim(actor, source_key):
                log.info("a repeated delivery of a command was ignored")
                return REPEATED
            values = {**parsed.fields, **(fields or {})}
            who = await members.known(self.deps.db, actor, channel)
            role = members.effective_role(who.role, actor, self.deps.settings)
            inv = Invocation(
                self.deps,
                actor,
                channel,
                who.member_id,
                role,
                source_key,
                group_id=who.group_id,
                group_timezone=who.group_timezone,
                member_timezone=who.timezone,
            )
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

    async def _claim(self, actor: Actor, source_key: str) -> bool:
        # Its own key: use cases claim the source key itself inside their transactions.
        return await StateStore(self.deps.db).claim(actor.platform, f"delivery:{source_key}")

    def _unknown(self, word: str) -> str:
        names = sorted({spec.path[0] for spec in self.specs})
        close = difflib.get_close_matches(word.lower(), names, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        return f"Unknown command '{word[:40]}'.{hint} Type `help` for the list."


# What a repeated delivery of a command already run gets: nothing to show.
REPEATED = Reply.text("", repeat=True)


def unexpected(exc: Exception) -> Reply:
    """A failure nobody could fix by retyping: logged with a reference the person is given."""
    ref = secrets.token_hex(4)
    # Type and frames only: the message may quote entry text, which never reaches a log.
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("command failed (ref %s): %s\n%s", ref, type(exc).__name__, frames)
    return Reply.text(f"Something went wrong on our side and nothing was saved. Reference: {ref}.")

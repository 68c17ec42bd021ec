"""`cycles shell`: the bot in a terminal. Type commands as any member; see DMs and channel posts
as they would arrive; fill forms field by field or inline."""

from __future__ import annotations

import contextlib
import shlex
from typing import Protocol, TextIO

from bot.clock import ManualClock
from bot.domain import Actor, ChannelRef, Form, Platform, Reply, Role
from bot.domain.durations import parse_duration
from bot.errors import NotSaved, UserError
from bot.ports import Port
from integrations.console.adapter import CHANNEL, WORKSPACE, ConsoleAdapter
from integrations.console.lines import LineSource
from integrations.console.render import chosen, field_prompt, render_form_intro, render_reply

ADMIN = "facilitator"
SHELL_HELP = (
    "Shell: `as <name>` speaks as another member (created on first use), `who` lists members, "
    "`quit` leaves. Everything else is a bot command: try `help`."
)
MAX_FORM_TRIES = 3


class Host(Protocol):
    """The running bot as the shell sees it (bot.app.App is one): the port, plus the outbox
    and the scheduler's jobs run by hand, since the shell shows their effects line by line."""

    @property
    def port(self) -> Port: ...

    async def drain_outbox(self) -> int: ...

    async def catch_up(self) -> None: ...


class Shell:
    def __init__(
        self,
        app: Host,
        adapter: ConsoleAdapter,
        lines: LineSource,
        out: TextIO,
        *,
        clock: ManualClock | None = None,
    ) -> None:
        self.app = app
        self.adapter = adapter
        self.lines = lines
        self.out = out
        self.clock = clock  # `wait` moves a manual clock (the demo); real time is not skipped
        self.user = ADMIN
        self.channel = ChannelRef(Platform.CONSOLE, WORKSPACE, CHANNEL)
        adapter.join(ADMIN)

    def actor(self) -> Actor:
        role = Role.ADMIN if self.user == ADMIN else Role.MEMBER
        tz = self.adapter.roster[self.user].timezone
        return Actor(Platform.CONSOLE, WORKSPACE, self.user, self.user.capitalize(), tz, role)

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    async def run(self) -> None:
        while True:
            line = await self.lines.read(f"{self.user}> ")
            if line is None or line.strip() in {"quit", "exit"}:
                return
            await self.execute(line)

    async def execute(self, line: str) -> None:
        text = line.strip()
        if not text:
            return
        if text.startswith("#"):
            return  # a comment in a script
        word, _, rest = text.partition(" ")
        try:
            if word == "as":
                self.switch(rest.strip())
            elif word == "who":
                self.say("  members: " + ", ".join(sorted(self.adapter.roster)))
            elif word == "shell":
                self.say("  " + SHELL_HELP)
            elif word == "wait":
                await self.wait(rest.strip())
            else:
                await self.command(text)
        except NotSaved as exc:  # the database went away: say so and keep reading
            self.say(f"  {exc}")
        # The command's own answer said so; what is queued goes out after a later command.
        with contextlib.suppress(NotSaved):
            await self.app.drain_outbox()

    def switch(self, name: str) -> None:
        try:
            words = shlex.split(name)
        except ValueError:
            words = []
        if len(words) != 1 or not words[0].replace("-", "").isalnum() or len(words[0]) > 32:
            self.say("  Usage: as <name> (one word, letters and digits).")
            return
        self.user = words[0].lower()
        self.adapter.join(self.user)

    async def wait(self, duration: str) -> None:
        if self.clock is None:
            self.say("  `wait` moves time in the demo only.")
            return
        try:
            delta = parse_duration(duration)
        except UserError as exc:
            self.say(f"  {exc}")
            return
        self.clock.advance(seconds=delta.total_seconds())
        await self.app.catch_up()  # what the scheduler would have done in the meantime

    async def command(self, text: str) -> None:
        result = await self.app.port.handle(self.actor(), self.channel, text)
        reply = await self.fill(result) if isinstance(result, Form) else result
        if reply is not None:
            self.say(render_reply(reply))

    async def fill(self, form: Form) -> Reply | None:
        """Ask each field in turn; on errors, ask again for just the fields that failed."""
        self.say(render_form_intro(form))
        values = dict(form.values)
        pending = list(form.fields)
        for _ in range(MAX_FORM_TRIES):
            for f in pending:
                answer = await self.lines.read(field_prompt(f, values.get(f.name)))
                if answer is None or answer.strip() == "cancel":
                    self.say("  Form cancelled; nothing was saved.")
                    return None
                if answer.strip():
                    values[f.name] = chosen(f, answer.strip())
            result = await self.app.port.handle(
                self.actor(), self.channel, form.command, fields=values
            )
            if isinstance(result, Form):
                values.update(result.values)
                pending = [f for f in result.fields if not values.get(f.name)]
                continue
            if not result.errors:
                return result
            for name, message in result.errors.items():
                self.say(f"  {name}: {message}")
            pending = [f for f in form.fields if f.name in result.errors]
        self.say("  Too many tries; nothing was saved.")
        return None

"""The console driver: the shell as a person types in it, and the terminal text read back the way
a person reads it (DMs and #learning posts, replies marked private or public)."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import App, build_app
from bot.config import load_settings
from integrations.console.adapter import CHANNEL, ConsoleAdapter
from integrations.console.shell import ADMIN, Shell
from tests.integrations.contract.base import Answer, Post

HEADER = re.compile(
    r"^  ── (?:DM to (?P<dm>\S+)|#(?P<channel>\S+)) ──(?P<same> \(the same message\))?$"
)
BODY = "  │"  # then a space, unless the line is blank
SECTION = "  ↳ "
BUTTON = re.compile(r"\[[^\]]+\] type: (?P<command>.+)$")
PRIVATE, PUBLIC = "  (only you see this)", "  (posted in the channel)"


@dataclass
class Block:
    """One message as the terminal showed it: to a person (`dm`) or to a channel."""

    dm: str | None
    channel: str | None
    lines: list[str]


def blocks(out: str) -> list[Block]:
    found: list[Block] = []
    last_dm: list[str] = []
    current: Block | None = None
    for line in out.splitlines():
        head = HEADER.match(line)
        if head:
            lines = list(last_dm) if head["same"] else []
            current = Block(head["dm"], head["channel"], lines)
            found.append(current)
        elif current is not None and line.startswith(BODY):
            current.lines.append(line.removeprefix(BODY).removeprefix(" "))
            if current.dm is not None:
                last_dm = current.lines
        else:
            current = None
    return found


def reply_in(chunk: str) -> Answer:
    """The first reply in what the shell printed for one command."""
    lines = chunk.splitlines()
    start = next(i for i, line in enumerate(lines) if line in (PRIVATE, PUBLIC))
    body: list[str] = []
    for line in lines[start + 1 :]:
        if HEADER.match(line):
            break
        body.append(line.removeprefix("  "))
    return Answer("\n".join(body), lines[start] == PRIVATE)


def post_of(block: Block) -> Post:
    text: list[str] = []
    thread: list[list[str]] = []
    for line in block.lines:
        if line.startswith(SECTION):
            thread.append([line.removeprefix(SECTION)])
        elif thread:
            thread[-1].append(line.strip())
        else:
            text.append(line)
    return Post("\n".join(text), ["\n".join(s) for s in thread])


@dataclass
class FormAnswers:
    """The person at the keyboard: for each form field asked, the answer they mean to give
    (blank keeps what the form holds)."""

    answers: dict[str, str] = field(default_factory=dict)

    async def read(self, prompt: str) -> str | None:
        name = prompt.strip().split(" ", 1)[0]
        return self.answers.get(name, "")


@dataclass
class ConsoleDriver:
    name: str = "console"
    people: tuple[str, ...] = (ADMIN, "ana", "ben", "cleo")
    out: io.StringIO = field(default_factory=io.StringIO)
    lines: FormAnswers = field(default_factory=FormAnswers)
    _app: App | None = None
    _shell: Shell | None = None

    @property
    def app(self) -> App:
        assert self._app is not None, "the bot is not started"
        return self._app

    @property
    def shell(self) -> Shell:
        assert self._shell is not None, "the bot is not started"
        return self._shell

    async def start(self, tmp_path: Path) -> None:
        env = {"CYCLES_CONFIG": "none", "CYCLES_DATA_DIR": str(tmp_path / "data")}
        adapter = ConsoleAdapter(self.out)
        self._app = await build_app(
            load_settings(path=None, env=env), adapters=[adapter], with_scheduler=False
        )
        self._shell = Shell(self._app, adapter, self.lines, self.out)
        for person in self.people:
            adapter.join(person)

    async def stop(self) -> None:
        if self._app is not None:
            await self._app.stop()

    async def typed(self, person: str, text: str) -> str:
        """What the terminal showed after `person` typed `text`."""
        self.shell.switch(person)
        before = len(self.out.getvalue())
        await self.shell.execute(text)
        return self.out.getvalue()[before:]

    async def command(self, person: str, text: str) -> Answer:
        return reply_in(await self.typed(person, text))

    async def answer_prompt(self, person: str, answers: dict[str, str]) -> str:
        prompt = [b for b in blocks(self.out.getvalue()) if b.dm == person][-1]
        [command] = [m["command"] for line in prompt.lines if (m := BUTTON.search(line))]
        self.lines.answers = answers
        shown = await self.typed(person, command)
        assert "[form]" in shown, shown
        return reply_in(shown).text

    def prompts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for block in blocks(self.out.getvalue()):
            if block.dm is not None and "(round #" in "\n".join(block.lines):
                counts[block.dm] = counts.get(block.dm, 0) + 1
        return counts

    def delivered(self) -> int:
        return len(blocks(self.out.getvalue()))

    def channel_posts(self) -> list[Post]:
        return [post_of(b) for b in blocks(self.out.getvalue()) if b.channel == CHANNEL]

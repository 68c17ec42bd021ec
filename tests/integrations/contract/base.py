"""What a driver offers the contract scenarios, in the people's terms: commands typed, forms
submitted, and what each person saw."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bot.app import App


@dataclass(frozen=True)
class Answer:
    """The bot's answer to a command, as the person who typed it saw it."""

    text: str
    private: bool


@dataclass(frozen=True)
class Post:
    """A root message in the channel and the replies in its thread (sections, on platforms
    without threads, count as its thread)."""

    text: str
    thread: list[str] = field(default_factory=list)


class Driver(Protocol):
    @property
    def name(self) -> str:
        """The platform's name, as the test ids show it."""

    @property
    def people(self) -> Sequence[str]:
        """The channel's members: the first a facilitator, the next two plain members."""

    @property
    def app(self) -> App: ...

    async def start(self, tmp_path: Path) -> None:
        """Start the bot through the composition root, pointed at this platform's fake."""

    async def stop(self) -> None: ...

    async def command(self, person: str, text: str) -> Answer:
        """`person` types `text` in the channel; the answer they saw."""

    async def answer_prompt(self, person: str, answers: dict[str, str]) -> str:
        """`person` opens the form from their latest round prompt, fills the named questions,
        submits it; the confirmation they saw."""

    def prompts(self) -> dict[str, int]:
        """person -> round prompts they received in a DM."""

    def delivered(self) -> int:
        """Messages the bot posted anywhere (DMs, channel, threads), answers excluded."""

    def channel_posts(self) -> list[Post]:
        """Root messages in the channel, each with its thread."""

"""Where the shell's input comes from: a terminal, a pipe, or a script."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Protocol, TextIO


class LineSource(Protocol):
    async def read(self, prompt: str) -> str | None:
        """The next line without its newline, or None at the end of input."""


class TerminalLines:
    """An interactive terminal: shows the prompt and waits for the person."""

    async def read(self, prompt: str) -> str | None:
        try:
            return await asyncio.to_thread(input, prompt)
        except EOFError:
            return None


class StreamLines:
    """A pipe or a script: one command per line, echoed after its prompt so the transcript reads
    like a conversation."""

    def __init__(self, lines: Iterable[str], out: TextIO) -> None:
        self._lines = iter(lines)
        self._out = out

    async def read(self, prompt: str) -> str | None:
        line = next(self._lines, None)
        if line is None:
            return None
        line = line.rstrip("\n")
        self._out.write(f"{prompt}{line}\n")
        return line

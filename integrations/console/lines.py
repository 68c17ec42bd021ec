"""Where the shell's input comes from: a terminal, a pipe, or a script."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterable
from typing import Protocol, TextIO


class LineSource(Protocol):
    async def read(self, prompt: str) -> str | None:
        """The next line without its newline, or None at the end of input."""


def lenient(stream: TextIO) -> TextIO:
    """The stream, reading bytes that are not valid text as U+FFFD instead of raising: a
    stray byte in a pipe or a paste is one odd character, never the end of the shell."""
    if isinstance(stream, io.TextIOWrapper):
        stream.reconfigure(errors="replace")
    return stream


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

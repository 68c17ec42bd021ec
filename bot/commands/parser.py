"""The one command grammar: words, then optional field=value pairs (values may be quoted)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from bot.errors import UserError

_FIELD = re.compile(r"^([a-z][a-z0-9_]{0,31})=(.*)$", re.DOTALL)
MAX_COMMAND_LENGTH = 20_000
_CURLY = str.maketrans("“”‘’", "\"\"''")


@dataclass
class Parsed:
    words: list[str]
    fields: dict[str, str] = field(default_factory=dict)


def parse(text: str) -> Parsed:
    """Split a command line. `checkin 3 happened="ran the pilot" surprise=80`."""
    if len(text) > MAX_COMMAND_LENGTH:
        raise UserError(f"That command is too long (the limit is {MAX_COMMAND_LENGTH} characters).")
    text = text.strip().removeprefix("/cycles").strip()
    # Chat clients turn quotes curly; the grammar treats them as plain quotes.
    text = text.translate(_CURLY)
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        raise UserError("A quote is not closed. Put the value in matching quotes.") from None
    parsed = Parsed(words=[])
    for token in tokens:
        match = _FIELD.match(token)
        if match:
            name = match.group(1)
            if name in parsed.fields:
                raise UserError(f"{name} is given twice.")
            parsed.fields[name] = match.group(2)
        elif parsed.fields:
            raise UserError(f"'{token}' follows the fields; put it before them or quote the value.")
        else:
            parsed.words.append(token)
    return parsed

"""The one command grammar: words, then optional field=value pairs (values may be quoted)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from bot.domain.text import clean
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
        # Field values are cleaned with the form's values (forms.clean_values), so that text made
        # only of invisible characters is reported on its field; names and words are cleaned here.
        name, equals, value = token.partition("=")
        match = _FIELD.match(clean(name, multiline=False) + equals)
        if match:
            name = match.group(1)
            if name in parsed.fields:
                raise UserError(f"{name} is given twice.")
            parsed.fields[name] = value
            continue
        word = clean(token, multiline=False)
        if not word.strip():
            continue  # a word of invisible characters only is no word
        if parsed.fields:
            raise UserError(
                f"'{word[:40]}' follows the fields; put it before them or quote the value."
            )
        parsed.words.append(word)
    return parsed

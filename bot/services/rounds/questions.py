"""A round's questions as the round copied them from its template: free text, a choice among
options, or a 0-100 dyad between two poles. How each is shown in a prompt and how a typed
answer to each is read."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.domain import FormField
from bot.domain.checks import check_text
from bot.errors import UserError
from bot.store.models import Round

TEXT, CHOICE, DYAD = "text", "choice", "dyad"
_NUMBER = re.compile(r"^[0-9]{1,3}$", re.ASCII)


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    kind: str = TEXT
    options: tuple[str, ...] = ()
    low: str = ""
    high: str = ""

    def hint(self) -> str:
        """What may be answered, in a few words ('' for free text)."""
        if self.kind == CHOICE:
            return "one of: " + " / ".join(self.options)
        if self.kind == DYAD:
            return f"0 = {self.low}, 100 = {self.high}"
        return ""


def questions_of(round_: Round) -> list[Question]:
    """The round's snapshot; rounds opened before questions had kinds read as free text."""
    out = []
    for p in round_.prompts:
        kind = str(p.get("kind") or TEXT)
        out.append(
            Question(
                str(p["key"]),
                str(p["text"]),
                kind if kind in (CHOICE, DYAD) else TEXT,
                tuple(str(o) for o in p.get("options") or ()),
                str(p.get("low") or ""),
                str(p.get("high") or ""),
            )
        )
    return out


def question_field(question: Question, max_length: int) -> FormField:
    """The question as a form field: free text, a select of its options, or a 0-100 number."""
    if question.kind == CHOICE:
        return FormField(
            question.key, question.text, "select", required=False, options=question.options
        )
    if question.kind == DYAD:
        return FormField(
            question.key,
            question.text,
            "number",
            required=False,
            max_length=3,
            hint=question.hint(),
        )
    return FormField(
        question.key, question.text, "long_text", required=False, max_length=max_length
    )


def prompt_line(number: int, question: Question) -> str:
    hint = question.hint()
    return f"{number}. {question.text}" + (f" ({hint})" if hint else "")


def read_answer(question: Question, value: str) -> str:
    """An answer as stored: a choice by its option (or the option's number), a dyad as its
    number. Empty stays empty (it removes the answer). Anything else is refused in words."""
    value = value.strip()
    if not value or question.kind == TEXT:
        return value
    if question.kind == CHOICE:
        for n, option in enumerate(question.options, start=1):
            if value.lower() in (option.lower(), str(n)):
                return option
        raise UserError(f"Choose one of: {' / '.join(question.options)}.")
    if not _NUMBER.match(value) or int(value) > 100:
        raise UserError(f"Answer with a number from 0 ({question.low}) to 100 ({question.high}).")
    return str(int(value))


def check_answer(question: Question, value: str, *, max_length: int) -> str:
    """A typed or submitted answer, cleaned, within the length limit, and read for its kind."""
    return read_answer(
        question, check_text("This answer", value, max_length=max_length, required=False)
    )

"""The chat model's label and opening sentence for each theme found on embeddings.

The clusters come from the embeddings and stay as they are: the model only names each one and
says in one sentence what it is about, from that cluster's entries alone. Its answer is never
trusted: the label must be two to five words the cluster's members wrote (no name, no stop word
at either end), the summary one full sentence, any quote a whole entry or a whole sentence of
one from an entry of the cluster that does not speak to the summariser, and nothing may read as
an instruction. A cluster whose answer fails any of this, or whose call fails, keeps the
offline label, sentence and quotes; the other clusters keep the model's.

Only the entries the summariser was given reach the model (the caller has already dropped
private and facilitators-only entries and replaced authors by labels); authors are not sent."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.summarise import features, phrases, quotes
from bot.summarise.base import Entry, Quote, Theme
from bot.summarise.sentences import sentences

log = logging.getLogger(__name__)

MIN_LABEL_WORDS = 2
MAX_LABEL_WORDS = 5
MAX_LABEL_CHARS = 80
WRAPPING = "\"'“”‘’«»"
_WORD = re.compile(r"[\w’'-]+")
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)

Ask = Callable[[str], Awaitable[str | None]]  # a prompt in, the model's text out
Render = Callable[[Sequence[Mapping[str, str]]], str]  # a cluster's items in, a prompt out


class Unlabelled(Exception):
    """The model's answer for a cluster cannot be used. The message never holds entry text."""


class _Quote(BaseModel):
    model_config = ConfigDict(extra="ignore")
    entry_id: str
    text: str


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    quotes: list[_Quote] = Field(default_factory=list)


def parse(content: str | None) -> _Answer:
    if not content or not content.strip():
        raise Unlabelled("empty answer")
    fenced = _FENCE.match(content)
    try:
        return _Answer.model_validate(json.loads(fenced.group(1) if fenced else content))
    except json.JSONDecodeError:
        raise Unlabelled("not JSON") from None
    except ValidationError as exc:
        raise Unlabelled(f"not the asked-for shape ({exc.error_count()} problems)") from None


def _words(text: str) -> list[str]:
    return [w.strip("'’-").casefold() for w in _WORD.findall(text) if w.strip("'’-")]


def checked_label(label: str, members: Sequence[Entry]) -> str:
    """The label when it is a short phrase the members used, else Unlabelled."""
    text = label.strip().strip(WRAPPING).strip().rstrip(".").strip()
    words = _words(text)
    if not MIN_LABEL_WORDS <= len(words) <= MAX_LABEL_WORDS or len(text) > MAX_LABEL_CHARS:
        raise Unlabelled("label not two to five words")
    if any(mark in text for mark in ",;:|/\n"):
        raise Unlabelled("label is a list, not a phrase")
    stop = features.stop_words()
    if words[0] in stop or words[-1] in stop:
        raise Unlabelled("label starts or ends with a stop word")
    # Words of the members who wrote to the group: an entry that speaks to the summariser
    # lends the label nothing (it may name the very phrase it wants said).
    if phrases.past_verb(words[-1]):
        raise Unlabelled("label ends in a verb: a clause, not a name for a theme")
    used = {w for e in members if not quotes.is_instruction(e.text) for w in _words(e.text)}
    if any(w not in used for w in words):
        raise Unlabelled("label has words the members did not use")
    if set(words) & features.names(e.text for e in members):
        raise Unlabelled("label names someone")
    return text


def _trigrams(text: str) -> set[tuple[str, ...]]:
    words = _words(text)
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def checked_summary(summary: str, members: Sequence[Entry]) -> str:
    """One full sentence, not an instruction, and not echoing an entry that gives one (a
    summary saying what an injection asked for has followed it)."""
    text = " ".join(summary.split())
    if len(sentences(text)) != 1 or not quotes.full_thought(text):
        raise Unlabelled("summary is not one full sentence")
    if quotes.is_instruction(text):
        raise Unlabelled("summary reads as an instruction")
    asked = [_trigrams(e.text) for e in members if quotes.is_instruction(e.text)]
    if any(_trigrams(text) & a for a in asked):
        raise Unlabelled("summary echoes an entry that speaks to the summariser")
    return text


def checked_quotes(given: Sequence[_Quote], members: Mapping[str, Entry], most: int) -> list[Quote]:
    """Quotes that are a member's whole entry or a whole sentence of it, a full thought (never
    a fragment or a five-word note) and never from an entry that speaks to the summariser; any
    other quote spoils the answer."""
    out: list[Quote] = []
    for q in given:
        entry = members.get(q.entry_id)
        if entry is None:
            raise Unlabelled("quote cites an entry outside the theme")
        if quotes.is_instruction(entry.text):
            raise Unlabelled("quote from an entry that reads as an instruction")
        text = q.text.strip()
        if text not in entry.text:
            text = text.strip(WRAPPING).strip()
        if text != entry.text.strip() and text not in sentences(entry.text):
            raise Unlabelled("quote is not a whole entry or a whole sentence of one")
        if not quotes.full_thought(text):
            raise Unlabelled("quote is not a full thought")
        if len(out) < most and all((x.entry_id, x.text) != (entry.id, text) for x in out):
            out.append(Quote(entry.id, text, entry.author))
    return out


def checked(answer: _Answer, theme: Theme, members: Mapping[str, Entry], most: int) -> Theme:
    """The theme with the model's label and sentence (and quotes, when it gave valid ones)."""
    label = checked_label(answer.label, list(members.values()))
    summary = checked_summary(answer.summary, list(members.values()))
    chosen = checked_quotes(answer.quotes, members, most)
    return Theme(label, summary, tuple(chosen) or theme.quotes, theme.entry_ids)


def items(theme: Theme, entries: Mapping[str, Entry], budget_chars: int) -> list[dict[str, str]]:
    """The cluster's entries for the prompt: its quoted (most central) entries first, then the
    rest in order, until the budget is spent; each text once."""
    ids = list(dict.fromkeys([*(q.entry_id for q in theme.quotes), *theme.entry_ids]))
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    used = 0
    for entry_id in ids:
        entry = entries.get(entry_id)
        if entry is None or " ".join(entry.text.split()).casefold() in seen:
            continue
        size = len(json.dumps({"id": entry.id, "text": entry.text}, ensure_ascii=False)) + 2
        if out and used + size > budget_chars:
            break
        seen.add(" ".join(entry.text.split()).casefold())
        out.append({"id": entry.id, "text": entry.text})
        used += size
    return out


async def relabel(
    themes: Sequence[Theme],
    entries: Mapping[str, Entry],
    *,
    ask: Ask,
    render: Render,
    budget_chars: int,
    most: int,
    concurrency: int,
) -> tuple[tuple[Theme, ...], int]:
    """Each theme labelled and summarised by the model where its answer holds; the others as
    they came. Also returns how many kept the offline wording."""
    limit = asyncio.Semaphore(concurrency)

    async def one(theme: Theme) -> tuple[Theme, bool]:
        if theme.label == "short notes":  # nothing to name: a cluster of stray notes
            return theme, False
        chunk = items(theme, entries, budget_chars)
        members = {item["id"]: entries[item["id"]] for item in chunk}
        try:
            async with limit:
                content = await ask(render(chunk))
            return checked(parse(content), theme, members, most), True
        except Exception as exc:  # this cluster keeps its offline wording; the rest go on
            log.info("llm labels: one theme keeps its offline label (%s)", _why(exc))
            return theme, False

    done = await asyncio.gather(*(one(t) for t in themes))
    kept = sum(1 for theme, ok in done if not ok and theme.label != "short notes")
    return tuple(t for t, _ in done), kept


def _why(exc: BaseException) -> str:
    # Log-safe: the checks' own messages, else the kind of failure (bodies can echo prompts).
    return str(exc) if isinstance(exc, Unlabelled) else type(exc).__name__


def prompt_items(chunk: Sequence[Mapping[str, Any]]) -> str:
    """JSON, one entry a line; non-ASCII kept so the model can copy sentences exactly."""
    return "[\n" + ",\n".join(json.dumps(dict(i), ensure_ascii=False) for i in chunk) + "\n]"

"""The LLM summariser: themes from an OpenAI-compatible chat model, verified against the entries.

Works with OpenAI, Azure OpenAI and local servers (Ollama, vLLM, llama.cpp) through `base_url`.
The model's answer is never trusted: every cited id must be one of the entries it was given and
every quote a verbatim substring of the cited entry, with the author taken from the entry. An
answer that cannot be used is asked for once more; a model that stays down, slow or unusable
hands over to the fallback (offline) summariser, so a digest is never lost.

Only what `summarise` receives reaches the model; the caller has already dropped private and
facilitator-only entries and replaced names by per-digest labels. Entry text and the API key
are never logged."""

from __future__ import annotations

import asyncio
import email.utils
import hashlib
import json
import logging
import math
import re
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import openai
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bot.config import BUNDLED_PROMPTS, LLMSettings
from bot.summarise import embeddings, labelling
from bot.summarise.base import Entry, Quote, Summariser, Summary, Theme
from bot.summarise.prompts import load_templates

log = logging.getLogger(__name__)

CHARS_PER_TOKEN = 4  # a rough estimate that holds well enough for English prose
MIN_DATA_TOKENS = 100  # a chunk always carries some data, however large the prompt is
MAX_RETRY_AFTER = 60.0  # a server asking for a longer pause is waited on for this long
MAP_CONCURRENCY = 4
MIN_QUOTE_CHARS = 12  # shorter fragments say nothing (unless they are the whole entry)
MAX_QUESTIONS = 3
MAX_LABEL_CHARS = 80
MAX_SUMMARY_CHARS = 600
MAX_QUESTION_CHARS = 300
PLACEHOLDER_KEY = "not-needed"  # local servers ignore the key, the client insists on one
WRAPPING_QUOTES = "\"'“”‘’«»"


class Unusable(Exception):
    """The model's answer cannot be used. The message never contains entry text."""


# The shape asked of the model. Extra keys (an `author`, say) are ignored, never trusted.
class _ModelQuote(BaseModel):
    model_config = ConfigDict(extra="ignore")
    entry_id: str
    text: str


class _ModelTheme(BaseModel):
    model_config = ConfigDict(extra="ignore")
    label: str = Field(min_length=1)
    summary: str = ""
    entry_ids: list[str] = Field(default_factory=list)
    quotes: list[_ModelQuote] = Field(default_factory=list)


class ModelAnswer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    themes: list[_ModelTheme]
    questions: list[str] = Field(default_factory=list)


@dataclass(frozen=True)
class Verified:
    themes: tuple[Theme, ...]
    questions: tuple[str, ...]


def estimate_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_answer(content: str | None) -> ModelAnswer:
    """The model's text as a ModelAnswer; some local models wrap JSON in a code fence."""
    if not content or not content.strip():
        raise Unusable("empty answer")
    fenced = _FENCE.match(content)
    try:
        data = json.loads(fenced.group(1) if fenced else content)
    except json.JSONDecodeError:
        raise Unusable("not JSON") from None
    try:
        return ModelAnswer.model_validate(data)
    except ValidationError as exc:
        raise Unusable(f"not the asked-for shape ({exc.error_count()} problems)") from None


def verbatim(quote: str, text: str) -> str | None:
    """The quote as it stands in `text`, or None. Only surrounding blanks and wrapping quote
    marks are forgiven; anything else must match character for character."""
    candidate = quote.strip()
    if candidate and candidate not in text:
        candidate = candidate.strip(WRAPPING_QUOTES).strip()
    if not candidate or candidate not in text:
        return None
    if len(candidate) < min(MIN_QUOTE_CHARS, len(text.strip())):
        return None
    return candidate


def verify(
    answer: ModelAnswer, entries: Mapping[str, Entry], *, max_themes: int, max_quotes: int
) -> Verified:
    """Keep only what the entries support: known ids, verbatim quotes, authors from the entries.
    A theme left with no entry is dropped; an answer left with no theme is unusable."""
    themes: list[Theme] = []
    for raw in answer.themes:
        quotes: list[Quote] = []
        for q in raw.quotes:
            entry = entries.get(q.entry_id)
            text = verbatim(q.text, entry.text) if entry is not None else None
            if entry is None or text is None:
                continue
            if len(quotes) < max_quotes and all(
                (x.entry_id, x.text) != (entry.id, text) for x in quotes
            ):
                quotes.append(Quote(entry.id, text, entry.author))
        cited = [i for i in raw.entry_ids if i in entries] + [q.entry_id for q in quotes]
        ids = tuple(dict.fromkeys(cited))
        label = raw.label.strip()[:MAX_LABEL_CHARS]
        if not ids or not label:
            continue
        themes.append(Theme(label, raw.summary.strip()[:MAX_SUMMARY_CHARS], tuple(quotes), ids))
        if len(themes) == max_themes:
            break
    if not themes:
        raise Unusable("no theme cites the entries it was given")
    questions = [q.strip()[:MAX_QUESTION_CHARS] for q in answer.questions if q.strip()]
    return Verified(tuple(themes), tuple(dict.fromkeys(questions))[:MAX_QUESTIONS])


def encode(items: Sequence[Any]) -> str:
    """JSON, one item a line; non-ASCII kept as is so the model can copy quotes exactly."""
    return "[\n" + ",\n".join(json.dumps(i, ensure_ascii=False) for i in items) + "\n]"


def delimiter_tag(data: str) -> str:
    """A tag derived from the data itself: no entry can contain the closing tag of the block
    it sits in, so no entry can step outside its delimiters."""
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


def pack(items: Sequence[Mapping[str, Any]], budget_tokens: int) -> list[list[Mapping[str, Any]]]:
    """Consecutive groups whose encoded size stays within the budget (one item at least)."""
    groups: list[list[Mapping[str, Any]]] = []
    current: list[Mapping[str, Any]] = []
    used = 0
    for item in items:
        size = estimate_tokens(json.dumps(item, ensure_ascii=False)) + 1
        if current and used + size > budget_tokens:
            groups.append(current)
            current, used = [], 0
        current.append(item)
        used += size
    if current:
        groups.append(current)
    return groups


def entry_item(entry: Entry, budget_tokens: int) -> dict[str, str]:
    # An entry longer than a whole chunk is cut; quotes from the cut text stay verbatim.
    text = entry.text[: budget_tokens * CHARS_PER_TOKEN]
    return {"id": entry.id, "author": entry.author, "text": text}


def theme_item(theme: Theme) -> dict[str, Any]:
    return {
        "label": theme.label,
        "summary": theme.summary,
        "entry_ids": list(theme.entry_ids),
        "quotes": [{"entry_id": q.entry_id, "text": q.text} for q in theme.quotes],
    }


def is_transient(exc: BaseException) -> bool:
    """Worth another try: rate limits, server errors, timeouts, dropped connections."""
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 409, 429) or exc.status_code >= 500
    return isinstance(exc, openai.APIConnectionError)  # includes APITimeoutError


def retry_after(exc: BaseException | None) -> float | None:
    """Seconds the server asked us to wait (Retry-After, retry-after-ms), if it said."""
    if not isinstance(exc, openai.APIStatusError):
        return None
    headers = exc.response.headers
    for name, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            return max(0.0, float(value) / divisor)
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            continue
        return max(0.0, (when - datetime.now(UTC)).total_seconds())
    return None


def describe(exc: BaseException) -> str:
    """A log-safe reason: status codes and kinds, never bodies (they can echo the prompt)."""
    if isinstance(exc, BaseExceptionGroup):  # concurrent chunk calls: the first failure
        return describe(exc.exceptions[0])
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    if isinstance(exc, openai.APITimeoutError):
        return "timeout"
    if isinstance(exc, openai.APIConnectionError):
        return "connection error"
    if isinstance(exc, Unusable):
        return f"unusable answer: {exc}"
    return type(exc).__name__


@dataclass(frozen=True)
class _Job:
    """One summarise call: its client, the entries it may cite and the limits asked for."""

    client: AsyncOpenAI
    entries: Mapping[str, Entry]
    max_themes: int
    max_quotes: int
    limit: asyncio.Semaphore  # at most MAP_CONCURRENCY requests in flight


class LLMSummariser:
    name = "llm"

    def __init__(
        self,
        settings: LLMSettings,
        fallback: Summariser,
        *,
        prompts_dir: Path | None = None,
        backoff_seconds: float = 1.0,
    ) -> None:
        self._settings = settings
        self._fallback = fallback
        self._backoff = wait_exponential_jitter(
            multiplier=backoff_seconds, max=backoff_seconds * 16, jitter=backoff_seconds
        )
        self._templates = load_templates((prompts_dir or BUNDLED_PROMPTS) / "digest")

    async def summarise(
        self,
        entries: Sequence[Entry],
        *,
        max_themes: int,
        max_quotes: int,
        history: Sequence[str] = (),
    ) -> Summary:
        if not entries:
            return Summary((), (), self.name)
        if not self._settings.api_key.get_secret_value() and not self._settings.base_url:
            log.warning("llm summariser: no API key and no base_url; using the offline one")
            return await self._fall_back(entries, max_themes, max_quotes, history)
        by_id: dict[str, Entry] = {}
        for entry in entries:
            by_id.setdefault(entry.id, entry)  # the first of a repeated id wins
        model = self._settings.embeddings_model
        try:
            async with self._client() as client:
                if model:  # themes by meaning: clustered on the server's embeddings
                    found = await embeddings.themes(
                        client,
                        model,
                        list(by_id.values()),
                        max_themes=max_themes,
                        max_quotes=max_quotes,
                        history=history,
                    )
                    if not self._settings.model:  # no chat model: worded offline
                        return Summary(*found, self.name)
                    named = await self._label(client, found[0], by_id, max_quotes)
                    return Summary(named, found[1], self.name)
                limit = asyncio.Semaphore(MAP_CONCURRENCY)
                job = _Job(client, by_id, max_themes, max_quotes, limit)
                result = await self._summarise(job, list(by_id.values()))
        except Exception as exc:  # whatever went wrong, the digest still gets its themes
            log.warning("llm summariser failed (%s); using the offline one", describe(exc))
            return await self._fall_back(entries, max_themes, max_quotes, history)
        return Summary(result.themes, result.questions, self.name)

    async def _label(
        self, client: AsyncOpenAI, themes: Sequence[Theme], by_id: Mapping[str, Entry], most: int
    ) -> tuple[Theme, ...]:
        """The chat model's label and sentence for each cluster; see labelling.py."""
        template = self._templates["label.j2"]
        frame = template.render(data="", tag="0" * 16, count=99999, max_quotes=most)
        budget = max(self._settings.max_input_tokens - estimate_tokens(frame), MIN_DATA_TOKENS)

        def render(chunk: Sequence[Mapping[str, str]]) -> str:
            data = labelling.prompt_items(chunk)
            return template.render(
                data=data, tag=delimiter_tag(data), count=len(chunk), max_quotes=most
            )

        async def ask(prompt: str) -> str | None:
            return await self._complete(client, [{"role": "user", "content": prompt}])

        named, kept = await labelling.relabel(
            themes,
            by_id,
            ask=ask,
            render=render,
            budget_chars=budget * CHARS_PER_TOKEN,
            most=most,
            concurrency=MAP_CONCURRENCY,
        )
        if kept:
            log.warning("llm labels: %d of %d themes keep their offline wording", kept, len(named))
        return named

    def _client(self) -> AsyncOpenAI:
        # The client's own retries are off: tenacity retries here, with the settings' limit.
        return AsyncOpenAI(
            api_key=self._settings.api_key.get_secret_value() or PLACEHOLDER_KEY,
            base_url=self._settings.base_url or None,
            timeout=self._settings.timeout_seconds,
            max_retries=0,
        )

    async def _fall_back(
        self, entries: Sequence[Entry], max_themes: int, max_quotes: int, history: Sequence[str]
    ) -> Summary:
        summary = await self._fallback.summarise(
            entries, max_themes=max_themes, max_quotes=max_quotes, history=history
        )
        return replace(summary, summariser=f"{self._fallback.name} (fallback)")

    # -- map-reduce -------------------------------------------------------------------------

    async def _summarise(self, job: _Job, entries: list[Entry]) -> Verified:
        budget = self._data_budget(job, "map.j2")
        chunks = pack([entry_item(e, budget) for e in entries], budget)
        if len(chunks) == 1:
            return await self._ask(job, self._map_prompt(job, chunks[0], 1, 1), job.entries)
        log.info("llm summariser: %d entries in %d chunks", len(entries), len(chunks))

        async def map_one(part: int, chunk: list[Mapping[str, Any]]) -> Verified:
            cited = {str(item["id"]): job.entries[str(item["id"])] for item in chunk}
            return await self._ask(job, self._map_prompt(job, chunk, part, len(chunks)), cited)

        mapped = await _all(map_one(i, c) for i, c in enumerate(chunks, 1))
        themes = [t for v in mapped for t in v.themes]
        questions = list(dict.fromkeys(q for v in mapped for q in v.questions))
        return await self._reduce(job, themes, questions, len(chunks))

    async def _reduce(
        self, job: _Job, themes: list[Theme], questions: list[str], parts: int
    ) -> Verified:
        """Merge chunk themes; the merged answer is verified against the original entries.
        Too many themes for one call are merged group by group first."""
        budget = self._data_budget(job, "reduce.j2") - estimate_tokens(json.dumps(questions))
        groups = pack([theme_item(t) for t in themes], max(budget, MIN_DATA_TOKENS))
        if len(groups) == 1:
            prompt = self._reduce_prompt(job, groups[0], questions, parts)
            return await self._ask(job, prompt, job.entries)
        if all(len(g) <= job.max_themes for g in groups):
            # merging group by group could not shrink the list: the budget is far too small
            raise Unusable("themes do not fit the token budget; raise llm.max_input_tokens")
        merged = await _all(
            self._ask(job, self._reduce_prompt(job, g, [], parts), job.entries) for g in groups
        )
        fewer = [t for v in merged for t in v.themes]
        if len(fewer) >= len(themes):
            raise Unusable("themes do not fit the token budget; raise llm.max_input_tokens")
        return await self._reduce(job, fewer, questions, parts)

    # -- prompts ----------------------------------------------------------------------------

    def _system(self, job: _Job) -> str:
        return self._templates["system.j2"].render(
            max_themes=job.max_themes, max_quotes=job.max_quotes
        )

    def _map_prompt(
        self, job: _Job, chunk: Sequence[Mapping[str, Any]], part: int, parts: int
    ) -> str:
        data = encode(chunk)
        return self._templates["map.j2"].render(
            data=data, tag=delimiter_tag(data), count=len(chunk), part=part, parts=parts
        )

    def _reduce_prompt(
        self, job: _Job, themes: Sequence[Mapping[str, Any]], questions: list[str], parts: int
    ) -> str:
        data = json.dumps({"themes": list(themes), "questions": questions}, ensure_ascii=False)
        return self._templates["reduce.j2"].render(
            data=data,
            tag=delimiter_tag(data),
            parts=parts,
            max_themes=job.max_themes,
            max_quotes=job.max_quotes,
        )

    def _data_budget(self, job: _Job, template: str) -> int:
        """Tokens left for data once the instructions around it are counted."""
        frame = self._templates[template].render(
            data="",
            tag="0" * 16,
            count=99999,  # numbers as wide as they will get
            part=99999,
            parts=99999,
            max_themes=job.max_themes,
            max_quotes=job.max_quotes,
        )
        used = estimate_tokens(self._system(job)) + estimate_tokens(frame)
        return max(self._settings.max_input_tokens - used, MIN_DATA_TOKENS)

    # -- the model --------------------------------------------------------------------------

    async def _ask(self, job: _Job, prompt: str, cited: Mapping[str, Entry]) -> Verified:
        """One question to the model; an unusable answer is asked for once more."""
        messages: list[ChatCompletionMessageParam] = [
            {"role": "system", "content": self._system(job)},
            {"role": "user", "content": prompt},
        ]
        for attempt in (1, 2):
            async with job.limit:
                content = await self._complete(job.client, messages)
            try:
                answer = parse_answer(content)
                return verify(answer, cited, max_themes=job.max_themes, max_quotes=job.max_quotes)
            except Unusable as exc:
                if attempt == 2:
                    raise
                log.info("llm summariser: %s; asking again", exc)
        raise AssertionError("unreachable")

    async def _complete(
        self, client: AsyncOpenAI, messages: list[ChatCompletionMessageParam]
    ) -> str | None:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self._settings.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception(is_transient),
            before_sleep=_log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                response = await client.chat.completions.create(
                    model=self._settings.model,
                    messages=messages,
                    response_format={"type": "json_object"},
                    max_tokens=self._settings.max_output_tokens,
                )
                return response.choices[0].message.content if response.choices else None
        raise AssertionError("unreachable")

    def _wait(self, state: RetryCallState) -> float:
        """The server's Retry-After when it gave one, exponential backoff with jitter if not."""
        exc = state.outcome.exception() if state.outcome else None
        asked = retry_after(exc)
        if asked is not None:
            return min(asked, MAX_RETRY_AFTER)
        return float(self._backoff(state))


async def _all(calls: Iterable[Coroutine[Any, Any, Verified]]) -> list[Verified]:
    """Run concurrently; the first failure cancels the rest (no orphaned requests)."""
    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(call) for call in calls]
    return [task.result() for task in tasks]


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    reason = describe(exc) if exc else "no answer"
    log.info("llm summariser: %s, retrying in %.2fs", reason, wait)

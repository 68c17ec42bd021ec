"""A local OpenAI-compatible server for tests: real HTTP on 127.0.0.1, so the real `openai`
client talks to it. It records every request and answers from a script of behaviours (good JSON,
malformed JSON, invented quotes, 429, 500, slow answers); when the script runs out it uses its
default behaviour.

    async with FakeOpenAI() as fake:
        fake.script(status(429, retry_after=0.1), good())
        settings = LLMSettings(base_url=fake.base_url, ...)

`good()` answers from the entries it finds between the prompt's delimiters, so its quotes are
real; other tests can import the `fake_openai` fixture. `/v1/embeddings` answers with the
vectors of an `embedder` (by default the text's words hashed into 64 dimensions)."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from aiohttp import web

Behaviour = Callable[["FakeOpenAI", dict[str, Any]], Awaitable[web.StreamResponse]]
Answer = dict[str, Any] | str | Callable[[dict[str, Any]], dict[str, Any] | str]

BLOCK = re.compile(r"<(entries|themes|cluster)-([0-9a-f]+)>\n(.*?)\n</\1-\2>", re.DOTALL)


@dataclass(frozen=True)
class Received:
    body: dict[str, Any]
    raw: str
    headers: dict[str, str]
    at: float  # time.monotonic() when it arrived


# -- reading requests ---------------------------------------------------------------------------


def message(body: dict[str, Any], role: str) -> str:
    """The last message of a role ("system", "user") in a chat request."""
    texts = [m["content"] for m in body.get("messages", []) if m.get("role") == role]
    return str(texts[-1]) if texts else ""


def block(body: dict[str, Any]) -> tuple[str, str, str] | None:
    """(kind, tag, data) of the delimited block in the user message, if there is one."""
    found = BLOCK.search(message(body, "user"))
    return (found.group(1), found.group(2), found.group(3)) if found else None


def entries_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries a map request carries ([] for a merge request)."""
    found = block(body)
    if found is None or found[0] != "entries":
        return []
    return list(json.loads(found[2]))


def themes_of(body: dict[str, Any]) -> dict[str, Any]:
    """{"themes": [...], "questions": [...]} of a merge request ({} for a map request)."""
    found = block(body)
    if found is None or found[0] != "themes":
        return {}
    return dict(json.loads(found[2]))


def cluster_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The entries of one theme a label request carries ([] for any other request)."""
    found = block(body)
    if found is None or found[0] != "cluster":
        return []
    return list(json.loads(found[2]))


def is_label(body: dict[str, Any]) -> bool:
    found = block(body)
    return found is not None and found[0] == "cluster"


def is_merge(body: dict[str, Any]) -> bool:
    found = block(body)
    return found is not None and found[0] == "themes"


# -- answers computed from a request ------------------------------------------------------------


def fragment(text: str) -> str:
    """A verbatim piece of an entry: its first sentence, at most 60 characters."""
    first = re.split(r"(?<=[.!?])\s", text.strip(), maxsplit=1)[0]
    return first[:60].strip()


def themes_from(body: dict[str, Any], count: int = 2, quotes: int = 1) -> dict[str, Any]:
    """A well-behaved model's answer: real ids and verbatim quotes from the request's data."""
    if is_merge(body):
        data = themes_of(body)
        given = data.get("themes", [])
        groups = [given[i::count] for i in range(min(count, len(given)))]
        themes = [
            {
                "label": f"merged {n}",
                "summary": "Themes found in several parts.",
                "entry_ids": [i for t in group for i in t["entry_ids"]],
                "quotes": [t["quotes"][0] for t in group if t["quotes"]][:quotes],
            }
            for n, group in enumerate(groups, 1)
        ]
        return {"themes": themes, "questions": [*data.get("questions", []), "What next?"][:3]}
    items = entries_of(body)
    size = max(1, -(-len(items) // count))
    groups = [items[i : i + size] for i in range(0, len(items), size)]
    themes = [
        {
            "label": f"theme {n}",
            "summary": "Several entries say this.",
            "entry_ids": [e["id"] for e in group],
            "quotes": [
                {"entry_id": e["id"], "text": fragment(e["text"]), "author": "model-made"}
                for e in group[:quotes]
            ],
        }
        for n, group in enumerate(groups, 1)
    ]
    return {"themes": themes, "questions": ["What surprised us most?"]}


_LABEL_WORD = re.compile(r"[a-z]{3,}")


def label_from(body: dict[str, Any]) -> dict[str, Any]:
    """A well-behaved model's label for a cluster: the two words its entries share most,
    written as one of them wrote them; its summary and quote a whole sentence of the first
    entry that does not speak to the summariser."""
    from bot.summarise.features import stop_words
    from bot.summarise.phrases import past_verb

    stop = stop_words()

    items = [e for e in cluster_of(body) if "instructions" not in e["text"]] or cluster_of(body)
    pairs: dict[str, int] = {}
    for e in items:
        # Neighbouring plain lower-case words as written (a capitalised name is never one).
        words = [w.strip(".,;:!?\"'()") for w in e["text"].split()]
        for a, b in {(a, b) for a, b in itertools.pairwise(words)}:
            if past_verb(b):
                continue  # "landlord ignored": a clause, not a name
            if all(_LABEL_WORD.fullmatch(w) and w not in stop for w in (a, b)):
                pairs[f"{a} {b}"] = pairs.get(f"{a} {b}", 0) + 1
    label = max(sorted(pairs), key=lambda p: pairs[p]) if pairs else "short notes here"
    first = items[0]
    sentence = re.split(r"(?<=[.!?])\s", first["text"].strip(), maxsplit=1)[0]
    return {
        "label": label,
        "summary": f"Several members of the group wrote about {label} this week.",
        "quotes": [{"entry_id": first["id"], "text": sentence}],
    }


def labels() -> Behaviour:
    """Label requests answered by `label_from`; any other request as `good()` answers it."""
    return answer(lambda body: label_from(body) if is_label(body) else themes_from(body))


def invented_from(body: dict[str, Any]) -> dict[str, Any]:
    """A good answer plus what a careless model makes up: a quote no one wrote, an id that
    does not exist, and a theme resting only on invented material."""
    answer = themes_from(body)
    real = answer["themes"][0]
    real["quotes"].append({"entry_id": real["entry_ids"][0], "text": "Words nobody wrote here."})
    real["entry_ids"].append("checkin:999999")
    answer["themes"].append(
        {
            "label": "made up",
            "summary": "Nothing supports this.",
            "entry_ids": ["response:424242"],
            "quotes": [{"entry_id": "response:424242", "text": "An invented quotation."}],
        }
    )
    return answer


# -- behaviours ---------------------------------------------------------------------------------


def completion(body: dict[str, Any], content: str) -> web.Response:
    return web.json_response(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": content},
                    "finish_reason": "stop",
                    "logprobs": None,
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
    )


def answer(content: Answer) -> Behaviour:
    """Answer with fixed content (a dict is sent as JSON) or content computed from the body."""

    async def respond(fake: FakeOpenAI, body: dict[str, Any]) -> web.StreamResponse:
        value = content(body) if callable(content) else content
        return completion(body, value if isinstance(value, str) else json.dumps(value))

    return respond


def good(count: int = 2, quotes: int = 1) -> Behaviour:
    return answer(lambda body: themes_from(body, count, quotes))


def invented() -> Behaviour:
    return answer(invented_from)


def malformed(content: str = '{"themes": [{"label": "cut off') -> Behaviour:
    return answer(content)


def status(code: int, retry_after: float | None = None) -> Behaviour:
    """An error status in OpenAI's error shape, optionally with a Retry-After header."""

    async def respond(fake: FakeOpenAI, body: dict[str, Any]) -> web.StreamResponse:
        headers = {} if retry_after is None else {"Retry-After": str(retry_after)}
        error = {"message": f"fake status {code}", "type": "fake_error", "code": None}
        return web.json_response({"error": error}, status=code, headers=headers)

    return respond


def slow(seconds: float, then: Behaviour | None = None) -> Behaviour:
    """Answer after `seconds` (or when the server closes): long enough to make a client time out."""

    async def respond(fake: FakeOpenAI, body: dict[str, Any]) -> web.StreamResponse:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(fake.closing.wait(), seconds)
        return await (then or good())(fake, body)

    return respond


# -- the server ---------------------------------------------------------------------------------


# -- embeddings ---------------------------------------------------------------------------------

Embedder = Callable[[str], list[float]]
EMBEDDING_DIMENSIONS = 64
_WORDS = re.compile(r"[a-z]{3,}")


def hashed_words(text: str) -> list[float]:
    """A default embedding: the text's words hashed into a few dimensions (texts sharing words
    land near each other; deterministic across runs)."""
    import hashlib

    out = [0.0] * EMBEDDING_DIMENSIONS
    for word in _WORDS.findall(text.lower()):
        digest = hashlib.sha256(word.encode()).digest()
        out[digest[0] % EMBEDDING_DIMENSIONS] += 1.0 if digest[1] % 2 else -1.0
    return out


class FakeOpenAI:
    def __init__(self, default: Behaviour | None = None, embedder: Embedder | None = None) -> None:
        """`embedder` turns a text into the vector `/v1/embeddings` answers with: a test that
        knows what its texts mean passes one that says so. `embeddings_status`, when set, is
        the HTTP status every embeddings request gets instead."""
        self.embedder = embedder or hashed_words
        self.embeddings_status: int | None = None
        self.embedded: list[list[str]] = []  # the inputs of every embeddings request
        self.default = default or labels()
        self.received: list[Received] = []
        self.closing = asyncio.Event()
        self._queue: deque[Behaviour] = deque()
        self._runner: web.AppRunner | None = None
        self._port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/v1"

    @property
    def requests(self) -> list[dict[str, Any]]:
        """Every request body received, in order."""
        return [r.body for r in self.received]

    def script(self, *behaviours: Behaviour) -> None:
        """Answer the next requests with these, in order; then the default again."""
        self._queue.extend(behaviours)

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        body = json.loads(raw)
        self.received.append(Received(body, raw, dict(request.headers), time.monotonic()))
        behaviour = self._queue.popleft() if self._queue else self.default
        return await behaviour(self, body)

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        given = body.get("input")
        texts = [given] if isinstance(given, str) else list(given or [])
        self.embedded.append([str(t) for t in texts])
        if self.embeddings_status is not None:
            error = {"error": {"message": "no", "type": "server_error"}}
            return web.json_response(error, status=self.embeddings_status)
        data = [
            {"object": "embedding", "index": i, "embedding": self.embedder(str(t))}
            for i, t in enumerate(texts)
        ]
        return web.json_response(
            {
                "object": "list",
                "data": data,
                "model": body.get("model", ""),
                "usage": {"prompt_tokens": 0, "total_tokens": 0},
            }
        )

    async def __aenter__(self) -> FakeOpenAI:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._port = int(self._runner.addresses[0][1])
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.closing.set()  # releases slow answers still waiting
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def fake_openai() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI() as fake:
        yield fake

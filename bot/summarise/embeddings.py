"""Themes by meaning: the entries' embeddings from the OpenAI-compatible server's
`/v1/embeddings` (OpenAI, Ollama, vLLM and llama.cpp all serve it), clustered and written up
by the offline summariser's own steps (phrase labels, a central sentence, verbatim quotes);
an entry of several full thoughts is embedded sentence by sentence as well.

Only the entries the summariser was given are sent, in the order given, in batches; a missing or
malformed vector is a failure like any other, and the caller falls back to the offline
summariser."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from openai import AsyncOpenAI

from bot.summarise.base import Entry, Theme
from bot.summarise.offline import summarise_sync, thoughts

BATCH = 256  # texts per request: well inside every server's limit


class BadEmbeddings(Exception):
    """The server's answer cannot be used. The message never contains entry text."""


async def embed(client: AsyncOpenAI, model: str, texts: Sequence[str]) -> list[list[float]]:
    """One vector per text, in order."""
    out: list[list[float]] = []
    for start in range(0, len(texts), BATCH):
        batch = list(texts[start : start + BATCH])
        answer = await client.embeddings.create(model=model, input=batch)
        vectors = sorted(answer.data, key=lambda d: d.index)
        if len(vectors) != len(batch) or any(not v.embedding for v in vectors):
            raise BadEmbeddings(f"{len(vectors)} vectors for {len(batch)} texts")
        widths = {len(v.embedding) for v in vectors} | ({len(out[0])} if out else set())
        if len(widths) != 1:
            raise BadEmbeddings("vectors of different lengths")
        out.extend([float(x) for x in v.embedding] for v in vectors)
    return out


async def themes(
    client: AsyncOpenAI,
    model: str,
    entries: Sequence[Entry],
    *,
    max_themes: int,
    max_quotes: int,
    history: Sequence[str] = (),
) -> tuple[tuple[Theme, ...], tuple[str, ...]]:
    """Themes of `entries` clustered on their embeddings. An entry of several full thoughts
    has each sentence embedded too: the summariser clusters such entries sentence by
    sentence."""
    parts = list(dict.fromkeys(p for e in entries if len(ts := thoughts(e.text)) > 1 for p in ts))
    vectors = await embed(client, model, [*(e.text for e in entries), *parts])
    by_key: dict[str, Sequence[float]] = {
        e.id: v for e, v in zip(entries, vectors[: len(entries)], strict=True)
    }
    by_key.update(zip(parts, vectors[len(entries) :], strict=True))
    return await asyncio.to_thread(
        summarise_sync, list(entries), max(1, max_themes), max(1, max_quotes), history, by_key
    )

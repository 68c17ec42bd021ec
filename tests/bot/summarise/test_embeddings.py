"""The model path's clustering: entries embedded through `/v1/embeddings` (the real `openai`
client against the fake server), clustered and written up offline; any failure falls back."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import pytest
from pydantic import SecretStr

from bot.config import LLMSettings
from bot.summarise.base import Entry
from bot.summarise.embeddings import BATCH
from bot.summarise.llm import LLMSummariser
from bot.summarise.offline import OfflineSummariser
from tests.support.fake_openai import FakeOpenAI

TOPICS = {
    "bus": [
        "The bus timetable changed again and two families missed the clinic.",
        "Our driver said the route to the estate is cut on Sundays.",
        "Families told us the fare is the reason they skip appointments.",
    ],
    "damp": [
        "The landlord ignored the mould in the flat for the third month running.",
        "Tenants are scared that asking for repairs will end their tenancy.",
        "A meter reading gave the tenant evidence the landlord could not dismiss.",
    ],
}


def meaning(text: str) -> list[float]:
    return [1.0 if text in TOPICS["bus"] else 0.0, 1.0 if text in TOPICS["damp"] else 0.0]


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(embedder=meaning) as server:
        yield server


def entries() -> list[Entry]:
    return [
        Entry(f"checkin:{topic}{i}", text, f"Member {i}")
        for topic, texts in TOPICS.items()
        for i, text in enumerate(texts)
    ]


def summariser(fake: FakeOpenAI) -> LLMSummariser:
    settings = LLMSettings(
        base_url=fake.base_url,
        api_key=SecretStr("test-key"),
        model="",  # no chat model: the clusters are worded offline (test_labelling: with one)
        embeddings_model="fake-embed",
        timeout_seconds=5.0,
        max_retries=0,
    )
    return LLMSummariser(settings, OfflineSummariser(), backoff_seconds=0.001)


async def test_themes_follow_the_embeddings(fake: FakeOpenAI) -> None:
    summary = await summariser(fake).summarise(entries(), max_themes=4, max_quotes=2)
    assert summary.summariser == "llm"
    groups = sorted(sorted({i[8:-1] for i in t.entry_ids}) for t in summary.themes)
    assert groups == [["bus"], ["damp"]]
    assert [len(batch) for batch in fake.embedded] == [6]
    assert not fake.requests  # no chat completion was asked for


async def test_a_wrong_answer_falls_back_to_offline(
    fake: FakeOpenAI, caplog: pytest.LogCaptureFixture
) -> None:
    fake.embedder = lambda text: []  # a server that answers with empty vectors
    with caplog.at_level(logging.WARNING):
        summary = await summariser(fake).summarise(entries(), max_themes=4, max_quotes=2)
    assert summary.summariser == "offline (fallback)"
    assert summary.themes
    assert "BadEmbeddings" in caplog.text or "failed" in caplog.text
    assert not any(text in caplog.text for texts in TOPICS.values() for text in texts)


async def test_many_entries_go_in_batches(fake: FakeOpenAI) -> None:
    many = [
        Entry(f"checkin:{i}", f"Note {i} about the bus timetable.", "Member A")
        for i in range(BATCH + 5)
    ]
    fake.embedder = lambda text: [1.0, float(len(text) % 3)]
    summary = await summariser(fake).summarise(many, max_themes=3, max_quotes=1)
    assert summary.summariser == "llm"
    assert [len(batch) for batch in fake.embedded] == [BATCH, 5]


async def test_an_entry_of_two_themes_is_embedded_and_clustered_by_sentence(
    fake: FakeOpenAI,
) -> None:
    bus, damp = TOPICS["bus"][0], TOPICS["damp"][0]
    mixed = Entry("checkin:mixed", f"{bus} {damp}", "Member Z")
    summary = await summariser(fake).summarise([*entries(), mixed], max_themes=4, max_quotes=3)
    assert summary.summariser == "llm"
    assert fake.embedded[0][-2:] == [bus, damp]  # each of its sentences embedded as well
    holding = [t for t in summary.themes if "checkin:mixed" in t.entry_ids]
    assert len(holding) == 2  # it speaks of both themes, and counts in each
    for theme in summary.themes:
        for quote in theme.quotes:  # a whole sentence of it, never a fragment
            assert quote.entry_id != "checkin:mixed" or quote.text in (bus, damp)

"""The quality bar: a planted week (bench/planted.py: five themes in varied words, noise, mixed
entries, an injection attempt, a private and a facilitators-only canary) stored as check-ins,
with three earlier weeks of the group's words, and the digest built through the services.

Offline it recovers at least three of the five planted themes; clustered on embeddings from a
fake server whose vectors say what each text is about, all five. Either way every quote is
verbatim from a shareable entry, no label is a bag of single words, the injection attempt is
never quoted, and no canary appears anywhere in either variant."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from pydantic import SecretStr

from bench import planted
from bot.services.context import Deps
from bot.store.models import Digest
from bot.summarise.factory import make_summariser
from tests.bot.services.digests.scene import MON, build, every_text
from tests.support import world
from tests.support.clock import Clock
from tests.support.fake_openai import FakeOpenAI, answer, label_from


@dataclass
class Seeded:
    group_id: int
    theme_of: dict[str, str | None]  # "checkin:12" -> planted theme (None: outside all)
    text_of: dict[str, str]  # shareable entries only
    injection_id: str


async def seed(deps: Deps) -> Seeded:
    async with deps.db.begin() as s:
        g = await world.group(s, name="County libraries")
        people = [await world.member(s, f"p{i}", name) for i, name in enumerate(planted.AUTHORS)]
        e = await world.experiment(s, g, "Library drop-ins", started_at=MON - timedelta(days=40))
        for n, text in enumerate(planted.history()):  # three earlier weeks
            at = MON - timedelta(days=1 + n % 20, minutes=n)
            await world.checkin(s, e, people[n % len(people)], text, at=at)
        seeded = Seeded(g.id, {}, {}, "")
        for n, p in enumerate(planted.week()):
            at = MON + timedelta(hours=1, minutes=n)
            row = await world.checkin(
                s,
                e,
                people[p.author],
                p.text,
                at=at,
                surprise=p.surprise,
                visibility=p.visibility,
            )
            key = f"checkin:{row.id}"
            seeded.theme_of[key] = p.theme
            if p.visibility == "group":
                seeded.text_of[key] = p.text
            if p.key == "injection":
                seeded.injection_id = key
    return seeded


def scored(digest: Digest, seeded: Seeded) -> planted.Score:
    themes = digest.themes or []
    return planted.score([(t["entry_ids"], t["quote_ids"]) for t in themes], seeded.theme_of)


QUOTE = re.compile(r"> “(.+?)” \((Member [A-Z]+|[^)]+)\)")


def assert_reads_well(digest: Digest, seeded: Seeded) -> None:
    themes = digest.themes or []
    assert themes
    for theme in themes:
        words = theme["label"].split()
        assert 2 <= len(words) <= 5 and "," not in theme["label"], theme["label"]
        assert seeded.injection_id not in theme["quote_ids"]
        for entry_id in theme["quote_ids"]:
            assert entry_id in seeded.text_of  # shareable
    learning = next(s for s in digest.content["sections"] if s["title"] == "What we are learning")
    quoted = QUOTE.findall(learning["text"])
    assert quoted
    shareable = list(seeded.text_of.values())
    for text, _author in quoted:
        assert any(text in t for t in shareable), text  # verbatim
    assert "Ignore all previous instructions" not in learning["text"]


async def digests(deps: Deps, group_id: int) -> list[Digest]:
    return [await build(deps, group_id), await build(deps, group_id, "leader")]


async def test_offline_digest_finds_planted_themes(deps: Deps, clock: Clock) -> None:
    seeded = await seed(deps)
    clock.now = MON + timedelta(days=4)
    group, leader = await digests(deps, seeded.group_id)
    assert group.summariser == "offline"
    score = scored(group, seeded)
    assert score.recovered >= 3, score
    assert_reads_well(group, seeded)
    for digest in (group, leader):
        for canary in planted.CANARIES:
            assert canary not in every_text(digest)


def by_meaning(text: str) -> list[float]:
    """What a good embedding model would say: which planted themes a text speaks of."""
    out = [0.0] * (len(planted.THEMES) + 1)
    for t, lines in enumerate(planted.THEMES.values()):
        out[t] += sum(1.0 for line in lines if line in text)
    if not any(out):
        out[-1] = 1.0  # noise, the injection attempt: about nothing the group does
    return out


@pytest.fixture
async def fake() -> AsyncIterator[FakeOpenAI]:
    async with FakeOpenAI(embedder=by_meaning) as server:
        yield server


def with_embeddings(deps: Deps, fake: FakeOpenAI, chat_model: str = "") -> Deps:
    """The model path: embeddings, and with `chat_model` the model's labels too."""
    llm = deps.settings.llm.model_copy(
        update={
            "base_url": fake.base_url,
            "api_key": SecretStr("test-key"),
            "model": chat_model,
            "embeddings_model": "fake-embed",
            "timeout_seconds": 5.0,
            "max_retries": 0,
        }
    )
    digest = deps.settings.digest.model_copy(update={"summariser": "llm"})
    settings = deps.settings.model_copy(update={"llm": llm, "digest": digest})
    return dataclasses.replace(deps, settings=settings, summariser=make_summariser(settings))


async def test_embeddings_recover_every_planted_theme(
    deps: Deps, clock: Clock, fake: FakeOpenAI
) -> None:
    seeded = await seed(deps)
    clock.now = MON + timedelta(days=4)
    model = with_embeddings(deps, fake)
    group, leader = await digests(model, seeded.group_id)
    assert group.summariser == "llm"
    score = scored(group, seeded)
    assert score.recovered == 5, score
    assert score.purity >= 0.9, score
    assert_reads_well(group, seeded)
    sent = [t for batch in fake.embedded for t in batch]
    for digest in (group, leader):
        for canary in planted.CANARIES:
            assert canary not in every_text(digest)
    for canary in planted.CANARIES:
        assert not any(canary in t for t in sent)  # never reached the model either
    assert not fake.requests  # no chat call: the clusters were written up offline


async def test_embeddings_failing_fall_back_to_offline(
    deps: Deps, clock: Clock, fake: FakeOpenAI
) -> None:
    seeded = await seed(deps)
    clock.now = MON + timedelta(days=4)
    fake.embeddings_status = 500
    digest = await build(with_embeddings(deps, fake), seeded.group_id)
    assert digest.summariser == "offline (fallback)"
    assert scored(digest, seeded).recovered >= 3


async def test_the_model_labels_the_planted_themes(
    deps: Deps, clock: Clock, fake: FakeOpenAI
) -> None:
    """Clusters on embeddings, labels and sentences from the chat model (the real `openai`
    client over loopback); one cluster gets an invalid answer and keeps its offline wording."""
    seeded = await seed(deps)
    clock.now = MON + timedelta(days=4)
    bad = {"label": "complete success", "summary": "This week was a complete success."}
    fake.script(answer(bad))
    model = with_embeddings(deps, fake, chat_model="fake-chat")
    group = await build(model, seeded.group_id)
    assert group.summariser == "llm"
    score = scored(group, seeded)
    assert score.recovered == 5, score
    assert score.purity >= 0.9, score
    assert_reads_well(group, seeded)
    labels = [t["label"] for t in group.themes or []]
    said = [label_from(body)["label"] for body in fake.requests]
    assert len(said) >= 5  # one label request a cluster
    assert "complete success" not in labels  # the invalid answer: offline wording kept
    assert said[0] not in labels or labels.count(said[0]) == 1
    assert sum(label in labels for label in said[1:]) >= 4  # the model's labels, the rest
    leader = await build(model, seeded.group_id, "leader")
    for canary in planted.CANARIES:
        for digest in (group, leader):
            assert canary not in every_text(digest)
        assert not any(canary in r.raw for r in fake.received)  # no chat request carried it
        assert not any(canary in t for batch in fake.embedded for t in batch)

from __future__ import annotations

from collections.abc import Sequence

import pytest

from bot.metrics import MeteredSummariser, Metrics
from bot.summarise import Entry, Summary


class Model:
    name = "llm"

    def __init__(self, outcomes: list[str | Exception]) -> None:
        self.outcomes = outcomes

    async def summarise(
        self,
        entries: Sequence[Entry],
        *,
        max_themes: int,
        max_quotes: int,
        history: Sequence[str] = (),
    ) -> Summary:
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return Summary((), (), outcome)


async def test_model_calls_and_fallbacks_are_counted() -> None:
    metrics = Metrics()
    model = MeteredSummariser(Model(["llm", "offline (fallback)", RuntimeError("down")]), metrics)
    assert model.name == "llm"
    await model.summarise([], max_themes=3, max_quotes=2)
    await model.summarise([], max_themes=3, max_quotes=2)
    with pytest.raises(RuntimeError):
        await model.summarise([], max_themes=3, max_quotes=2)
    text = metrics.render().decode()
    for result in ("ok", "fallback", "error"):
        assert f'cycles_model_calls_total{{result="{result}",summariser="llm"}} 1.0' in text
    assert "cycles_model_fallbacks_total 1.0" in text


def test_jobs_are_counted_by_kind_not_by_group() -> None:
    metrics = Metrics()
    metrics.job("digest:12", "ok")
    metrics.job("digest:13", "ok")
    metrics.job("rounds-close", "error")
    text = metrics.render().decode()
    assert 'cycles_scheduled_jobs_total{job="digest",result="ok"} 2.0' in text
    assert 'cycles_scheduled_jobs_total{job="rounds-close",result="error"} 1.0' in text

"""Theme recovery and purity on the planted week (bench/planted.py), next to the digest's
timings: the offline summariser with every step, then without each step in turn (what each
step buys), and clustered on embeddings that say what each text is about (the model path's
clustering, with a stand-in for a good embedding model).

Measured on the summariser directly (the same code the digest runs); the service-level test
is tests/bot/services/digests/test_planted.py."""

from __future__ import annotations

import dataclasses
import time
from typing import Any

from bench import planted
from bench.suite import Row

MAX_THEMES = 5  # the bot's default ([digest] max_themes)
MAX_QUOTES = 3
TARGET_OFFLINE = 3
TARGET_MODEL = 5


def _entries() -> tuple[list[Any], dict[str, str | None]]:
    from bot.summarise.base import Entry

    shareable = [p for p in planted.week() if p.visibility == "group"]
    entries = [
        Entry(f"checkin:{i}", p.text, f"Member {p.author}", p.surprise)
        for i, p in enumerate(shareable)
    ]
    return entries, {e.id: p.theme for e, p in zip(entries, shareable, strict=True)}


def by_meaning(text: str) -> list[float]:
    """A stand-in for a good embedding model: which planted themes a text speaks of."""
    out = [0.0] * (len(planted.THEMES) + 1)
    for t, lines in enumerate(planted.THEMES.values()):
        out[t] += sum(1.0 for line in lines if line in text)
    if not any(out):
        out[-1] = 1.0
    return out


def evaluate() -> dict[str, dict[str, float]]:
    """variant -> {recovered, purity, themes, seconds}."""
    from bot.summarise.features import Steps
    from bot.summarise.offline import summarise_sync

    entries, theme_of = _entries()
    history = list(planted.history())
    variants: dict[str, dict[str, Any]] = {"offline, every step": {}}
    for step in ("history", "stem", "names", "stock", "split"):
        variants[f"offline without {step}"] = {
            "steps": dataclasses.replace(Steps(), **{step: False})
        }
    variants["clustered on meaningful embeddings"] = {
        "vectors": {e.id: by_meaning(e.text) for e in entries}
    }
    out: dict[str, dict[str, float]] = {}
    for name, options in variants.items():
        started = time.perf_counter()
        themes, _questions = summarise_sync(entries, MAX_THEMES, MAX_QUOTES, history, **options)
        seconds = time.perf_counter() - started
        score = planted.score(
            [(t.entry_ids, [q.entry_id for q in t.quotes]) for t in themes], theme_of
        )
        out[name] = {
            "recovered": score.recovered,
            "purity": score.purity,
            "themes": score.themes,
            "seconds": seconds,
        }
    return out


def rows(figures: dict[str, dict[str, float]]) -> list[Row]:
    """Recovery (of five planted themes) and mean purity per variant."""
    out = []
    for name, f in figures.items():
        model = name.startswith("clustered")
        target = TARGET_MODEL if model else TARGET_OFFLINE
        every = name == "offline, every step" or model
        out.append(
            Row(
                "digest",
                f"planted week ({len(planted.week())} entries, 5 themes), {name}: themes recovered",
                f["recovered"],
                "of 5",
                target=f">= {target}" if every else "",
                met=f["recovered"] >= target if every else None,
                note=f"mean purity {f['purity']:.2f} over {int(f['themes'])} themes",
            )
        )
    return out

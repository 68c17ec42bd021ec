"""Surprises and dissonance: the most surprising shared entries, one per person first, each
with the hypothesis it challenges or the prompt it answers."""

from __future__ import annotations

from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.sections.text import excerpt, ref, sentence_end, sources
from bot.services.digests.variants import GROUP
from bot.services.digests.week import WeekData
from bot.summarise import Summary

TOP_SURPRISES = 3
# An entry counts as surprising from here (the slider's midpoint is 50).
SURPRISING = 60


def render(data: WeekData, summary: Summary) -> Body:
    candidates = sorted(
        (e for e in data.entries if e.surprise is not None and e.surprise >= SURPRISING),
        key=lambda e: (-(e.surprise or 0), e.created_at, e.id),
    )
    # Many voices first: one entry per person, then more from the same people if room is left.
    seen: set[int] = set()
    firsts = []
    for e in candidates:
        if e.member_id not in seen:
            seen.add(e.member_id)
            firsts.append(e)
    chosen = {e.id for e in firsts}
    ranked = (firsts + [e for e in candidates if e.id not in chosen])[:TOP_SURPRISES]
    if not ranked:
        return Body("Nothing shared this week was marked surprising.")
    by_id = {e.id: e for e in data.experiments}
    lines = []
    ids: list[str] = []
    for item in ranked:
        line = f"• {item.surprise}/100: {excerpt(item.entry.text)} ({item.entry.author})"
        ids.append(item.id)
        experiment = by_id.get(item.experiment_id or -1)
        if experiment is not None:
            line += f". It challenges {ref(experiment)}: {sentence_end(experiment.hypothesis)}"
            ids.append(f"experiment:{experiment.id}")
        elif item.round_id is not None and item.prompt_key is not None:
            prompt = data.prompts.get((item.round_id, item.prompt_key))
            if prompt:
                line += f", answering “{prompt}”"
        lines.append(line)
    return Body("\n".join(lines), sources(ids))


SECTION = DigestSection("surprises", "Surprises and dissonance", {GROUP: render})

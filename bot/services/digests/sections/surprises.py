"""Surprises and dissonance: the most surprising shared answers and check-ins, one per person
first. Each is counted once (a member's answers to a round's questions are one answer, with one
rating), quoted from the field that carries the surprise, and said to challenge its experiment's
hypothesis only when its confidence fell below the experiment's earlier level or below 50."""

from __future__ import annotations

import heapq
import re
from datetime import datetime

from bot.services.digests.sections.section import Body, DigestSection
from bot.services.digests.sections.text import excerpt, ref, sentence_end, sources
from bot.services.digests.variants import GROUP
from bot.services.digests.week import WeekData
from bot.services.entries import GroupEntry
from bot.summarise import Summary

TOP_SURPRISES = 3
# An entry counts as surprising from here (the slider's midpoint is 50).
SURPRISING = 60
# Below this, confidence in the hypothesis has fallen whatever it was before.
DOUBT = 50
_SURPRISE_WORDS = re.compile(
    r"surpris|unexpected|did ?n[o’']t expect|never expected|turns? out|turned out|shock|"
    r"astonish|to our amazement|wrong about|not what we",
    re.IGNORECASE,
)
# The field a check-in's surprise most often sits in, when no word says which.
FIELD_ORDER = ("learned", "happened", "next")


def surprising_text(answer: list[GroupEntry], data: WeekData) -> tuple[GroupEntry, str]:
    """The entry and the words of an answer that carry its surprise: a field (or a round
    question's answer) that says so, else what was learned, else the longest answer."""
    for entry in answer:
        for _name, text in entry.fields:
            if _SURPRISE_WORDS.search(text):
                return entry, text
        if entry.round_id is not None:
            prompt = data.prompts.get((entry.round_id, entry.prompt_key or ""), "")
            if _SURPRISE_WORDS.search(prompt) or _SURPRISE_WORDS.search(entry.entry.text):
                return entry, entry.entry.text
    first = answer[0]
    if first.fields:
        by_name = dict(first.fields)
        name = next((n for n in FIELD_ORDER if n in by_name), first.fields[0][0])
        return first, by_name[name]
    longest = max(answer, key=lambda e: (len(e.entry.text), -e.row_id))
    return longest, longest.entry.text


def rating(answer: list[GroupEntry]) -> int | None:
    if len(answer) == 1:  # a check-in, most of a big week
        return answer[0].surprise
    values = [e.surprise for e in answer if e.surprise is not None]
    return max(values) if values else None


def render(data: WeekData, summary: Summary) -> Body:
    candidates = [(r, a) for a in data.answers if (r := rating(a)) is not None and r >= SURPRISING]

    def order(ra: tuple[int, list[GroupEntry]]) -> tuple[int, datetime, str]:
        return (-ra[0], ra[1][0].created_at, ra[1][0].id)

    # Many voices first: each person's most surprising answer, then more from the same people
    # if room is left. A big week has tens of thousands: only the few shown are sorted in full.
    best: dict[int, tuple[int, list[GroupEntry]]] = {}
    for candidate in candidates:
        member = candidate[1][0].member_id
        if member not in best or order(candidate) < order(best[member]):
            best[member] = candidate
    ranked = heapq.nsmallest(TOP_SURPRISES, best.values(), key=order)
    if len(ranked) < TOP_SURPRISES:
        chosen = {id(a) for _r, a in ranked}
        rest = [c for c in candidates if id(c[1]) not in chosen]
        ranked += heapq.nsmallest(TOP_SURPRISES - len(ranked), rest, key=order)
    if not ranked:
        return Body("Nothing shared this week was marked surprising.")
    by_id = {e.id: e for e in data.experiments}
    lines = []
    ids: list[str] = []
    for value, answer in ranked:
        item, words = surprising_text(answer, data)
        line = f"• {value}/100: {excerpt(words)} ({item.entry.author})"
        ids.extend(e.id for e in answer)
        experiment = by_id.get(item.experiment_id or -1)
        if experiment is not None:
            ids.append(f"experiment:{experiment.id}")
            before = data.confidence_before.get(experiment.id)
            confidence = item.confidence
            if confidence is not None and (
                confidence < DOUBT or (before is not None and confidence < before)
            ):
                was = (
                    f", down from {before:.0f}"
                    if before is not None and confidence < before
                    else ""
                )
                line += (
                    f". Confidence {confidence}{was}: it challenges {ref(experiment)}: "
                    f"{sentence_end(experiment.hypothesis)}"
                )
            else:
                line += f", on {ref(experiment)}."
        elif item.round_id is not None and item.prompt_key is not None:
            prompt = data.prompts.get((item.round_id, item.prompt_key))
            if prompt:
                line += f", answering “{prompt}”"
        lines.append(line)
    return Body("\n".join(lines), sources(ids))


SECTION = DigestSection("surprises", "Surprises and dissonance", {GROUP: render})

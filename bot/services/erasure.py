"""What `forget-me` rewrites: the member's words and name in messages made for others.

Digests, round summaries and outbox payloads quote members. When one asks to be forgotten, every
line that quotes their entries (a quoted span that is a fragment of one of their texts, or one
of their sentences written out) or names them is removed, and their entries leave the source
lists. Where a model wrote a theme's summary from their entry, that summary may paraphrase them:
it is removed too, the theme keeps its label."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.summarise.offline import sentences

OPENING, CLOSING = '“"', '”"'
MIN_QUOTE = 12  # shorter fragments are common words, not a member's words (unless whole)
MIN_SENTENCE = 20
MAX_QUOTE = 4000
REMOVED = "(removed at a member's request)"
_LABELLED = re.compile(r"^(\s*\*[^*\n]+\*):\s")


@dataclass(frozen=True)
class Traces:
    """What identifies one member's words in text made for others."""

    name: str
    texts: tuple[str, ...]
    entry_ids: frozenset[str]

    def sentences(self) -> set[str]:
        """Every sentence of theirs, as summarisers and excerpts cut them."""
        return {s.strip() for t in self.texts for s in sentences(t) if s.strip()}


def _theirs(span: str, traces: Traces, own: set[str]) -> bool:
    """Whether a quoted span is their words: a long enough fragment of one of their texts, or
    one of their sentences or whole fields however short."""
    fragment = span.strip().removesuffix("…").strip()
    if not fragment:
        return False
    if fragment in own or any(fragment == t.strip() for t in traces.texts):
        return True
    return len(fragment) >= MIN_QUOTE and any(fragment in t for t in traces.texts)


def scrub_text(text: str, traces: Traces) -> str:
    """`text` without the lines that quote or name the member."""
    lines = text.split("\n")
    starts, at = [], 0
    for line in lines:
        starts.append(at)
        at += len(line) + 1

    def line_of(pos: int) -> int:
        return max(i for i, s in enumerate(starts) if s <= pos)

    drop: set[int] = set()
    name = re.compile(rf"(?<!\w){re.escape(traces.name)}(?!\w)") if traces.name.strip() else None
    own = traces.sentences()
    written_out = [s for s in own if len(s) >= MIN_SENTENCE]
    for i, line in enumerate(lines):
        if (name and name.search(line)) or any(s in line for s in written_out):
            drop.add(i)
    opens = [i for i, ch in enumerate(text) if ch in OPENING]
    closes = [i for i, ch in enumerate(text) if ch in CLOSING]
    for o in opens:
        for c in closes:
            if o < c <= o + MAX_QUOTE and _theirs(text[o + 1 : c], traces, own):
                drop.update(range(line_of(o), line_of(c) + 1))
    return "\n".join(line for i, line in enumerate(lines) if i not in drop)


def _summaries_removed(text: str, *, labelled: bool) -> str:
    """A theme section's prose without what a model wrote: `*label*: summary` keeps the label
    (digests); in a round summary's theme section, only the quotes stay."""
    out = []
    for line in text.split("\n"):
        if line.lstrip().startswith(">"):
            out.append(line)
        elif labelled and (match := _LABELLED.match(line)):
            out.append(match.group(1))
        elif labelled:
            out.append(line)
    return "\n".join(out)


def scrub_message(
    data: dict[str, Any], traces: Traces, *, paraphrased: bool, round_summary: bool = False
) -> dict[str, Any]:
    """A stored Message (as JSON) without the member. `paraphrased`: a model wrote the themes,
    so the prose of a theme built from their entries goes too."""
    sections = []
    for section in data.get("sections", ()):
        sources = list(section.get("source_ids", ()))
        text = scrub_text(str(section.get("text", "")), traces)
        if paraphrased and traces.entry_ids.intersection(sources):
            is_theme = round_summary and not section.get("title", "").startswith("Questions")
            if is_theme or not round_summary:
                text = _summaries_removed(text, labelled=not round_summary)
        kept = [s for s in sources if s not in traces.entry_ids]
        sections.append({**section, "text": text if text.strip() else REMOVED, "source_ids": kept})
    head = scrub_text(str(data.get("text", "")), traces)
    return {**data, "text": head if head.strip() else REMOVED, "sections": sections}


def digest_text(data: dict[str, Any]) -> str:
    """A digest's plain text, as `digests.render.plain_text` makes it."""
    parts = [str(data.get("text", ""))]
    parts += [f"{s['title']}\n{s['text']}" for s in data.get("sections", ())]
    return "\n\n".join(parts)


def summary_text(data: dict[str, Any]) -> str:
    """A round summary's stored text, as `rounds.message_text` makes it."""
    parts = [str(data.get("text", ""))]
    parts += [f"*{s['title']}*\n{s['text']}" for s in data.get("sections", ())]
    return "\n\n".join(parts)

"""Facilitators curate a draft digest before it is posted: rename a theme, drop or pin a quote,
add a note. Each change is one record kept with the digest (`Digest.edits`), in order, and
applied again whenever the draft is rebuilt, so the posted digest is the curated one.

A change names its theme by position and by the label the summariser gave it: when a rebuild
(new entries) moves or removes that theme, the change follows the label or no longer applies,
and never lands on another theme. Quotes are named by their entry id."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from bot.summarise import Summary, Theme

Edit = dict[str, Any]
ACTIONS = ("rename", "drop", "pin", "note")


@dataclass(frozen=True)
class Curated:
    summary: Summary
    originals: tuple[str, ...]  # each theme's label before any rename, in order
    unapplied: tuple[Edit, ...]  # changes whose theme or quote is gone from the draft


def _target(themes: list[Theme], originals: list[str], edit: Edit) -> int | None:
    position, label = int(edit.get("theme") or 0), str(edit.get("label") or "")
    if 1 <= position <= len(themes) and originals[position - 1] == label:
        return position - 1
    return originals.index(label) if label in originals else None


def apply(summary: Summary, edits: list[Edit] | None) -> Curated:
    themes = list(summary.themes)
    originals = [t.label for t in themes]
    unapplied: list[Edit] = []
    for edit in edits or ():
        action = edit.get("action")
        if action == "note":
            continue
        index = _target(themes, originals, edit)
        if index is None:
            unapplied.append(edit)
            continue
        theme = themes[index]
        if action == "rename":
            themes[index] = replace(theme, label=str(edit["text"]))
            continue
        quote = next((q for q in theme.quotes if q.entry_id == edit.get("quote")), None)
        if quote is None:
            unapplied.append(edit)
        elif action == "drop":
            themes[index] = replace(theme, quotes=tuple(q for q in theme.quotes if q != quote))
        elif action == "pin":
            rest = tuple(q for q in theme.quotes if q != quote)
            themes[index] = replace(theme, quotes=(quote, *rest))
    return Curated(
        Summary(tuple(themes), summary.questions, summary.summariser),
        tuple(originals),
        tuple(unapplied),
    )


def note_of(edits: list[Edit] | None) -> str:
    """The facilitators' note: the latest one written (an empty one removes it)."""
    notes = [str(e.get("text") or "") for e in edits or () if e.get("action") == "note"]
    return notes[-1].strip() if notes else ""


def stored_themes(curated: Curated) -> list[dict[str, Any]]:
    """What the digest row keeps of its themes: labels, the ids of the entries each draws on
    and quotes (`digest sources`), never quote text (a quote lives in its entry, which
    `forget-me` deletes)."""
    return [
        {
            "label": theme.label,
            "original": original,
            "entry_ids": list(theme.entry_ids),
            "quote_ids": [q.entry_id for q in theme.quotes],
            # The quotes a reader sees under it, as `digest edit` numbers them.
            "shown_quote_ids": [q.entry_id for q in theme.shown_quotes()],
        }
        for theme, original in zip(curated.summary.themes, curated.originals, strict=True)
    ]


def describe(edit: Edit) -> str:
    """One line a facilitator reads in the preview: what this change does."""
    action, theme, label = edit.get("action"), edit.get("theme"), edit.get("label")
    if action == "note":
        text = str(edit.get("text") or "")
        return f"note: “{text}”" if text else "note removed"
    where = f"theme {theme} “{label}”"
    if action == "rename":
        return f"{where} renamed “{edit.get('text')}”"
    return f"{where}: quote {edit.get('number')} {'dropped' if action == 'drop' else 'pinned'}"

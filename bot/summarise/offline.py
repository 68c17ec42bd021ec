"""Offline summariser: themes found with TF-IDF and k-means (or k-means over embeddings when a
caller has them), each labelled by a phrase people used, opened by its most central sentence and
quoted verbatim. No network; deterministic for the same input (duplicates are folded, documents
are ordered, every random choice is seeded).

What each step buys, on the planted week of `bench/planted.py` (115 entries, five themes in
varied words, first names across themes, stock remarks, four entries that mix two themes;
`python -m bench --only digest` reports the same): with every step, 4 of 5 themes recovered at
a mean purity of 0.43; without fitting on the group's history 2 at 0.33; without Snowball stems
4 at 0.43 (before the split step: 3 at 0.35, against 3 at 0.41 with them); with names left in
4 at 0.39; with stock remarks left in 2 at 0.35; without splitting entries of several full
thoughts at sentence level 3 at 0.41. Before these steps, 0 of 5 at 0.22. Clustered on
embeddings that say what each text is about: 5 of 5 at 1.00, split or not.

scikit-learn is imported inside the worker function: start-up stays fast, and the CPU work runs
in a thread so the event loop keeps answering."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from bot.summarise import clusters, features, phrases, quotes
from bot.summarise.base import Entry, Quote, Summary, Theme
from bot.summarise.sentences import sentences

__all__ = ["OfflineSummariser", "sentences", "summarise_sync", "thoughts"]

# Only the texts nearest a theme's centre are searched for its sentence and quotes.
QUOTE_CANDIDATES = 12
MAX_QUESTIONS = 3
# The group's earlier words the feature space is fitted on, at most.
HISTORY_TEXTS = 4000


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class _Doc:
    """One distinct text and every entry that carries it (duplicates fold into one). `part`:
    when the text is one sentence of an entry that was split, that sentence."""

    key: str
    entries: list[Entry]
    part: str | None = None

    @property
    def text(self) -> str:
        return self.part if self.part is not None else self.entries[0].text


class OfflineSummariser:
    name = "offline"

    async def summarise(
        self,
        entries: Sequence[Entry],
        *,
        max_themes: int,
        max_quotes: int,
        history: Sequence[str] = (),
    ) -> Summary:
        themes, questions = await asyncio.to_thread(
            summarise_sync, list(entries), max(1, max_themes), max(1, max_quotes), list(history)
        )
        return Summary(themes, questions, self.name)


def summarise_sync(
    entries: list[Entry],
    max_themes: int,
    max_quotes: int,
    history: Sequence[str] = (),
    vectors: Mapping[str, Sequence[float]] | None = None,
    steps: features.Steps | None = None,
) -> tuple[tuple[Theme, ...], tuple[str, ...]]:
    """Themes and questions. `history`: the group's earlier shareable texts, to fit the feature
    space on more than one week; `vectors`: entry id (or a split entry's sentence) ->
    embedding, to cluster by meaning;
    `steps`: which steps to take (all, but for measuring what each buys)."""
    docs = _fold(entries)
    if not docs:
        return (), ()
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    # threadpoolctl comes with scikit-learn. One native thread: on a small machine shared with
    # the event loop and other work, OpenMP/BLAS threads spinning for a core cost more than they
    # save (measured: 10,000 entries take 1.5 s single-threaded, 2-6 s with two threads).
    with threadpool_limits(limits=1):
        steps = steps or features.Steps()
        past = list(history) if steps.history else []
        return _summarise(docs, entries, max_themes, max_quotes, past, vectors, steps)


@dataclass
class _Space:
    """The week as the summariser sees it."""

    docs: list[_Doc]
    clean: list[str]  # each text less its stock sentences
    stock: frozenset[str]
    names: frozenset[str]
    analyzer: features.Analyzer
    vectorizer: Any
    tfidf: Any  # TF-IDF rows of `clean`
    terms: Any
    space: Any  # what k-means saw: LSA rows, TF-IDF rows or embeddings


def _summarise(
    docs: list[_Doc],
    entries: list[Entry],
    max_themes: int,
    max_quotes: int,
    history: list[str],
    vectors: Mapping[str, Sequence[float]] | None,
    steps: features.Steps,
) -> tuple[tuple[Theme, ...], tuple[str, ...]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    history = history[:HISTORY_TEXTS]
    texts = [d.text for d in docs]
    names = features.names([*texts, *history]) if steps.names else frozenset()
    analyzer = features.Analyzer(names, stem=steps.stem)
    stock = features.stock_sentences([*texts, *history], analyzer) if steps.stock else frozenset()
    if steps.split:
        docs = _split(docs, stock)
        texts = [d.text for d in docs]
    clean = [features.without(t, stock) for t in texts]
    corpus = len(docs) + len(history)
    vectorizer = TfidfVectorizer(
        analyzer=analyzer,
        sublinear_tf=True,
        min_df=2 if corpus >= 1000 else 1,
        max_df=0.5 if corpus >= 20 else 1.0,
        max_features=50_000,
        dtype=_float32(),
    )
    past = [features.without(t, stock) for t in history]
    try:
        # The words' weights come from more than one week; each text is analysed once.
        both = vectorizer.fit_transform([*clean, *past])
    except ValueError:  # nothing but stop words: one theme with no terms
        return (_plain_theme(docs, max_quotes),), ()
    terms = vectorizer.get_feature_names_out()
    tfidf = _drop_rare_phrases(both[: len(clean)], terms)
    if vectors is not None:
        space = _embedded(docs, vectors)
    else:
        fit_on = _drop_rare_phrases(both[len(clean) :], terms) if past else None
        space = clusters.lsa(tfidf, None if fit_on is None else _stack(tfidf, fit_on))
    week = _Space(docs, clean, stock, names, analyzer, vectorizer, tfidf, terms, space)
    labels = clusters.cluster(space, max_themes)
    themes = [
        _theme(week, [i for i, lab in enumerate(labels) if lab == c], labels, c, max_quotes)
        for c in sorted(set(labels))
    ]
    themes.sort(key=lambda t: (-len(t.entry_ids), t.label))
    return tuple(themes), _questions(themes, entries)


def _stack(a: Any, b: Any) -> Any:
    import scipy.sparse as sp  # type: ignore[import-untyped]

    return sp.vstack([a, b]).tocsr()


def _embedded(docs: list[_Doc], vectors: Mapping[str, Sequence[float]]) -> Any:
    """One unit vector per distinct text: its entries' embeddings averaged."""
    import numpy as np
    from sklearn.preprocessing import normalize

    rows = []
    for doc in docs:
        # A sentence of a split entry has its own vector when the caller embedded it.
        found = [vectors[doc.text]] if doc.part is not None and doc.text in vectors else []
        found = found or [vectors[e.id] for e in doc.entries if e.id in vectors]
        if not found:
            raise ValueError("an entry has no embedding")
        rows.append(np.mean(np.asarray(found, dtype=np.float32), axis=0))
    return normalize(np.vstack(rows))


def _float32() -> Any:
    import numpy as np

    return np.float32


def _drop_rare_phrases(tfidf: Any, terms: Any) -> Any:
    """Zero the columns of two-word phrases found in one text only: a phrase is a theme's
    word when people share it, an accident of word order when only one person wrote it."""
    import numpy as np
    from sklearn.preprocessing import normalize

    df = np.bincount(tfidf.indices, minlength=tfidf.shape[1])
    rare = (df < 2) & np.char.find(terms.astype(str), " ").__ge__(0)
    if not rare.any():
        return tfidf
    out = tfidf.tocsc(copy=True)
    for column in np.flatnonzero(rare):
        out.data[out.indptr[column] : out.indptr[column + 1]] = 0
    out = out.tocsr()
    out.eliminate_zeros()
    return normalize(out)


def thoughts(text: str, stock: frozenset[str] = frozenset()) -> list[str]:
    """The full-thought sentences of a text, stock remarks and next steps left out: two or
    more, and the text is clustered sentence by sentence (an entry can speak of two themes).
    A next step on its own would make a theme of to-dos."""
    return [
        s
        for s in sentences(text)
        if quotes.full_thought(s) and not quotes.is_plan(s) and _normal(s) not in stock
    ]


def _without_plans(text: str) -> str:
    """The text without its next steps (a round's "what next" answer may be nothing else)."""
    return " ".join(s for s in sentences(text) if not quotes.is_plan(s))


def _split(docs: list[_Doc], stock: frozenset[str]) -> list[_Doc]:
    """Each text of two or more full thoughts becomes one text per thought; each keeps the
    entries it came from, so the entry counts in every theme one of its thoughts joins, and a
    quote from it is still a whole sentence of it."""
    by_key: dict[str, _Doc] = {}
    for doc in docs:
        parts = thoughts(doc.text, stock)
        if len(parts) < 2:
            by_key.setdefault(doc.key, _Doc(doc.key, [], doc.part)).entries.extend(doc.entries)
            continue
        for part in parts:
            key = _normal(part)
            by_key.setdefault(key, _Doc(key, [], part)).entries.extend(doc.entries)
    return [by_key[k] for k in sorted(by_key)]


def _fold(entries: list[Entry]) -> list[_Doc]:
    """Distinct non-empty texts, in a fixed order (by text), so input order changes nothing."""
    by_key: dict[str, _Doc] = {}
    for entry in sorted(entries, key=lambda e: (e.id, e.text)):
        if not entry.text.strip():
            continue
        key = _normal(entry.text)
        by_key.setdefault(key, _Doc(key, [])).entries.append(entry)
    return [by_key[k] for k in sorted(by_key)]


def _theme(week: _Space, members: list[int], labels: list[int], cluster: int, most: int) -> Theme:
    import numpy as np

    inside = week.tfidf[members]
    centre = np.asarray(inside.mean(axis=0)).ravel()
    outside_rows = [i for i, lab in enumerate(labels) if lab != cluster]
    rest = (
        np.asarray(week.tfidf[outside_rows].mean(axis=0)).ravel()
        if outside_rows
        else np.zeros_like(centre)
    )
    # Nearest the centre first, in the space the theme was found in.
    space = week.space[members]
    middle = np.asarray(space.mean(axis=0)).ravel()
    closeness = np.asarray(space @ middle).ravel()
    order = [members[int(i)] for i in np.lexsort((np.arange(len(members)), -closeness))]
    distinct = centre - rest
    top = np.argsort(-distinct)[:300]
    weight = {str(week.terms[i]): float(distinct[i]) for i in top if distinct[i] > 0}
    stop = features.stop_words()
    # A label is what people saw or learned, never a to-do: next steps are left out of it.
    ordered_texts = [_without_plans(week.clean[i]) for i in order]
    label = phrases.label(ordered_texts, weight, stop, week.analyzer.stem, week.names)
    # An entry split in two can have both its thoughts in one theme: counted once.
    entries = list({e.id: e for i in members for e in week.docs[i].entries}.values())
    opening, chosen = _sentences(week, order, centre, most)
    summary = opening or _count_sentence(entries)
    return Theme(label or "short notes", summary, chosen, tuple(e.id for e in _ordered(entries)))


def _sentences(
    week: _Space, order: list[int], centre: Any, most: int
) -> tuple[str | None, tuple[Quote, ...]]:
    """The theme's most central full sentence, and up to `most` quotes, that sentence first:
    full thoughts, from different entries (and, when there is a choice, different authors),
    never a stock remark and never from an entry that reads as an instruction to the
    summariser."""
    import numpy as np

    norm = float(np.linalg.norm(centre)) or 1.0
    candidates: list[tuple[int, int, int, float, int, str]] = []
    for rank, index in enumerate(order[:QUOTE_CANDIDATES]):
        doc = week.docs[index]
        if any(quotes.is_instruction(e.text) for e in doc.entries):  # the whole entry's words
            continue
        parts = [
            p for p in sentences(doc.text) if quotes.quotable(p) and _normal(p) not in week.stock
        ]
        if not parts:
            continue
        scores = np.asarray(week.vectorizer.transform(parts) @ centre).ravel() / norm
        # Within a text, a full thought before a note or a next step; then the sentence
        # closest to the theme's words.
        fit, pos, part = max(
            ((float(f), -p, t) for p, (t, f) in enumerate(zip(parts, scores, strict=True))),
            key=lambda c: (quotes.full_thought(c[2]) and not quotes.is_plan(c[2]), c[0], c[1]),
        )
        weak = int(quotes.is_plan(part) or not quotes.full_thought(part))
        candidates.append((weak, int(quotes.is_plan(part)), rank, -fit, -pos, part))
    if not candidates:
        return None, ()
    # What people saw and learned before their next steps; then the texts nearest the centre
    # first (nearness in the space the theme was found in).
    candidates.sort()
    chosen: list[Quote] = []
    used_texts: set[str] = set()
    authors: set[str] = set()
    for repeat_authors in (False, True):
        for weak, _plan, rank, _fit, _pos, part in candidates:
            if len(chosen) >= most or (weak and chosen):
                # A next step or a short note opens a theme only when nothing else can.
                break
            entry = week.docs[order[rank]].entries[0]
            if _normal(part) in used_texts:
                continue
            if entry.author in authors and not repeat_authors:
                continue
            chosen.append(Quote(entry.id, part, entry.author))
            used_texts.add(_normal(part))
            authors.add(entry.author)
    chosen.sort(key=lambda q: next(c[:3] for c in candidates if c[5] == q.text))
    return chosen[0].text, tuple(chosen)


def _ordered(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (e.created_at is None, e.created_at or 0, e.id))


def _plain_theme(docs: list[_Doc], max_quotes: int) -> Theme:
    entries = list({e.id: e for d in docs for e in d.entries}.values())
    chosen: list[Quote] = []
    for doc in docs:
        if len(chosen) >= max_quotes or quotes.is_instruction(doc.text):
            continue
        parts = [p for p in sentences(doc.text) if quotes.full_thought(p)]
        if parts:
            first = doc.entries[0]
            chosen.append(Quote(first.id, parts[0], first.author))
    ids = tuple(e.id for e in entries)
    return Theme("short notes", _count_sentence(entries), tuple(chosen), ids)


def _count_sentence(entries: list[Entry]) -> str:
    """What a theme with no sentence to quote says about itself: how many wrote."""
    people = len({e.author for e in entries})
    count = len(entries)
    if count == 1:
        return "One short note."
    who = "one person" if people == 1 else f"{people} people"
    return f"{count} short notes from {who}."


def _questions(themes: list[Theme], entries: list[Entry]) -> tuple[str, ...]:
    """Questions the themes raise by themselves: a theme only one person wrote about. The
    digest adds those the rest of the week raises (see the questions section)."""
    authors = {e.id: e.author for e in entries}
    out: list[str] = []
    for theme in themes[1:]:
        if theme.label != "short notes" and len({authors[i] for i in theme.entry_ids}) == 1:
            out.append(f"Only one person wrote about {theme.label}: has anyone else seen it?")
    return tuple(out)[:MAX_QUESTIONS]

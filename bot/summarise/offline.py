"""Offline summariser: themes found with TF-IDF and k-means, labelled by their top terms, each
with the most representative sentences quoted verbatim. No network; deterministic for the same
input (duplicates are folded, documents are ordered, every random choice is seeded).

scikit-learn is imported inside the worker function: start-up stays fast, and the CPU work runs
in a thread so the event loop keeps answering."""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

from bot.summarise.base import Entry, Quote, Summary, Theme

SEED = 0
# Model selection (how many themes) runs on a sample, so it costs the same at any corpus size.
SELECTION_SAMPLE = 1500
# Above this many distinct texts, k-means runs on an LSA projection (faster, and steadier themes).
LSA_MIN_DOCS = 300
LSA_COMPONENTS = 80
LSA_FIT_SAMPLE = 4000
# Two texts sharing less than this cosine similarity have nothing in common worth a theme.
RELATED = 0.1
LABEL_TERMS = 3
# Only the texts nearest a theme's centre are searched for quotes.
QUOTE_CANDIDATES = 12
QUOTE_MIN_WORDS = 4
QUOTE_MAX_CHARS = 280
MAX_QUESTIONS = 3

# A sentence: from a non-space up to terminal punctuation followed by space/end, a line break,
# or the end. Spans index the original text, so a quote is always an exact substring.
_SENTENCE = re.compile(r"\S.*?(?:[.!?]+[\"'’”)\]]*(?=\s|\Z)|(?=\n)|\Z)", re.DOTALL)


def sentences(text: str) -> list[str]:
    """The sentences of `text`, each an exact substring of it."""
    return [m.group(0).strip() for m in _SENTENCE.finditer(text) if m.group(0).strip()]


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold()


@dataclass
class _Doc:
    """One distinct text and every entry that carries it (duplicates fold into one)."""

    key: str
    entries: list[Entry]

    @property
    def text(self) -> str:
        return self.entries[0].text


class OfflineSummariser:
    name = "offline"

    async def summarise(
        self, entries: Sequence[Entry], *, max_themes: int, max_quotes: int
    ) -> Summary:
        themes, questions = await asyncio.to_thread(
            summarise_sync, list(entries), max(1, max_themes), max(1, max_quotes)
        )
        return Summary(themes, questions, self.name)


def summarise_sync(
    entries: list[Entry], max_themes: int, max_quotes: int
) -> tuple[tuple[Theme, ...], tuple[str, ...]]:
    docs = _fold(entries)
    if not docs:
        return (), ()
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    # threadpoolctl comes with scikit-learn. One native thread: on a small machine shared with
    # the event loop and other work, OpenMP/BLAS threads spinning for a core cost more than they
    # save (measured: 10,000 entries take 1.5 s single-threaded, 2-6 s with two threads).
    with threadpool_limits(limits=1):
        return _summarise(docs, entries, max_themes, max_quotes)


def _summarise(
    docs: list[_Doc], entries: list[Entry], max_themes: int, max_quotes: int
) -> tuple[tuple[Theme, ...], tuple[str, ...]]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [d.key for d in docs]
    vectorizer = TfidfVectorizer(
        analyzer=_Analyzer(),
        sublinear_tf=True,
        min_df=2 if len(docs) >= 1000 else 1,
        max_df=0.5 if len(docs) >= 20 else 1.0,
        max_features=50_000,
        dtype=_float32(),
    )
    try:
        tfidf = vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words: one theme with no terms
        return (_plain_theme(docs, max_quotes),), ()
    terms = vectorizer.get_feature_names_out()
    tfidf = _drop_rare_phrases(tfidf, terms)
    labels = _cluster(tfidf, max_themes)
    themes = []
    for cluster in sorted(set(labels)):
        members = [i for i, lab in enumerate(labels) if lab == cluster]
        themes.append(_theme(docs, members, tfidf, labels, cluster, terms, vectorizer, max_quotes))
    themes.sort(key=lambda t: (-len(t.entry_ids), t.label))
    return tuple(themes), _questions(themes, entries)


# Words every reflection uses (the prompts' own verbs, time, contraction stubs): they say nothing
# about what a theme is, so they neither group texts nor label them.
_REFLECTION = """
    week weeks day days today yesterday tomorrow month months time times year monday tuesday
    wednesday thursday friday saturday sunday morning afternoon evening
    try tried trying noticed notice felt feel feeling think thought really just got get getting
    went did doing does thing things lot bit bits maybe actually ll ve don didn doesn isn wasn
"""
REFLECTION_WORDS = frozenset(_REFLECTION.split())
_TOKEN = re.compile(r"(?u)\b\w\w+\b")


def stem(word: str) -> str:
    """Harman's S-stemmer: plurals fold into their singular (tenants -> tenant, families ->
    family) and nothing else changes, so terms stay readable."""
    if len(word) > 3:
        if word.endswith("ies") and not word.endswith(("eies", "aies")):
            return word[:-3] + "y"
        if word.endswith("es") and not word.endswith(("aes", "ees", "oes")):
            return word[:-1]
        if word.endswith("s") and not word.endswith(("us", "ss")):
            return word[:-1]
    return word


class _Analyzer:
    """Words of two or more letters, English stop words left out, plurals folded; then the
    words and the two-word phrases they form."""

    def __init__(self) -> None:
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        self._stop = ENGLISH_STOP_WORDS | REFLECTION_WORDS
        self._stems: dict[str, str] = {}

    def words(self, text: str) -> list[str]:
        stems = self._stems
        out = []
        for token in _TOKEN.findall(text.lower()):
            if token in self._stop:
                continue
            found = stems.get(token)
            if found is None:
                found = stems[token] = stem(token)
            out.append(found)
        return out

    def __call__(self, text: str) -> list[str]:
        words = self.words(text)
        return words + [f"{a} {b}" for a, b in pairwise(words)]


def _surface(terms: list[str], texts: list[str]) -> list[str]:
    """Each term as people wrote it: the commonest spelling behind each folded word."""
    wanted = {w for t in terms for w in t.split()}
    seen: dict[str, Counter[str]] = {w: Counter() for w in wanted}
    for text in texts[:300]:
        for token in _TOKEN.findall(text.lower()):
            folded = stem(token)
            if folded in seen:
                seen[folded][token] += 1

    def spell(word: str) -> str:
        counts = seen.get(word)
        return min(counts.items(), key=lambda kv: (-kv[1], kv[0]))[0] if counts else word

    return [" ".join(spell(w) for w in t.split()) for t in terms]


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


def _fold(entries: list[Entry]) -> list[_Doc]:
    """Distinct non-empty texts, in a fixed order (by text), so input order changes nothing."""
    by_key: dict[str, _Doc] = {}
    for entry in sorted(entries, key=lambda e: (e.id, e.text)):
        if not entry.text.strip():
            continue
        key = _normal(entry.text)
        by_key.setdefault(key, _Doc(key, [])).entries.append(entry)
    return [by_key[k] for k in sorted(by_key)]


def _cluster(tfidf: Any, max_themes: int) -> list[int]:
    """A theme number per document. How many themes is read from the data: the silhouette
    picks among 2..max_themes; a corpus no bigger than max_themes is grouped by similarity."""
    import numpy as np

    n = tfidf.shape[0]
    if n == 1 or max_themes == 1:
        return [0] * n
    space = _space(tfidf)
    if n <= max_themes:  # a handful of texts: group what shares words, nothing more
        sims = (space @ space.T).toarray() if hasattr(space, "toarray") else space @ space.T
        return _components(np.asarray(sims) >= RELATED)
    rng = np.random.RandomState(SEED)
    sample = np.sort(rng.permutation(n)[:SELECTION_SAMPLE]) if n > SELECTION_SAMPLE else None
    chosen = space[sample] if sample is not None else space
    best = _choose_k(chosen, min(max_themes, chosen.shape[0] - 1))
    if sample is None:
        return [int(x) for x in best.labels_]
    from sklearn.cluster import KMeans

    final = KMeans(best.n_clusters, init=best.cluster_centers_, n_init=1, random_state=SEED)
    final.fit(space)
    return [int(x) for x in final.labels_]


def _space(tfidf: Any) -> Any:
    """The vectors k-means sees: TF-IDF rows, or their LSA projection for large corpora."""
    from sklearn.preprocessing import normalize

    n, features = tfidf.shape
    if n < LSA_MIN_DOCS or features <= LSA_COMPONENTS:
        return tfidf
    import numpy as np
    from sklearn.decomposition import TruncatedSVD

    svd = TruncatedSVD(LSA_COMPONENTS, algorithm="randomized", n_iter=4, random_state=SEED)
    if n > LSA_FIT_SAMPLE:  # the topic directions are learned from a sample, then applied to all
        rows = np.sort(np.random.RandomState(SEED).permutation(n)[:LSA_FIT_SAMPLE])
        svd.fit(tfidf[rows])
        return normalize(svd.transform(tfidf))
    return normalize(svd.fit_transform(tfidf))


def _choose_k(space: Any, k_max: int) -> Any:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    best: Any = None
    best_score = -2.0
    for k in range(2, max(2, k_max) + 1):
        model = KMeans(k, n_init=3, random_state=SEED).fit(space)
        if len(set(model.labels_)) < 2:
            continue
        score = float(silhouette_score(space, model.labels_, metric="cosine"))
        # A bigger k must earn its place: ties keep the smaller, simpler answer.
        if score > best_score + 1e-6:
            best, best_score = model, score
    if best is None:
        best = KMeans(2, n_init=3, random_state=SEED).fit(space)
    return best


def _components(adjacent: Any) -> list[int]:
    """Connected components of a small similarity graph, numbered in document order."""
    n = len(adjacent)
    out = [-1] * n
    label = 0
    for start in range(n):
        if out[start] >= 0:
            continue
        stack = [start]
        out[start] = label
        while stack:
            i = stack.pop()
            for j in range(n):
                if adjacent[i][j] and out[j] < 0:
                    out[j] = label
                    stack.append(j)
        label += 1
    return out


def _theme(
    docs: list[_Doc],
    members: list[int],
    tfidf: Any,
    labels: list[int],
    cluster: int,
    terms: Any,
    vectorizer: Any,
    max_quotes: int,
) -> Theme:
    import numpy as np

    inside = tfidf[members]
    centre = np.asarray(inside.mean(axis=0)).ravel()
    outside_rows = [i for i, lab in enumerate(labels) if lab != cluster]
    rest = (
        np.asarray(tfidf[outside_rows].mean(axis=0)).ravel()
        if outside_rows
        else np.zeros_like(centre)
    )
    score = centre - rest
    if len(members) >= 3:
        # A label names what several texts share: a word from one text only ranks after.
        shared_by = np.bincount(inside.indices, minlength=inside.shape[1])
        score = np.where(shared_by >= 2, score, score - 10.0)
    top = _surface(_top_terms(score, centre, terms), [docs[i].key for i in members])
    entries = [e for i in members for e in docs[i].entries]
    quotes = _quotes(docs, members, inside, centre, vectorizer, max_quotes)
    label = ", ".join(top) if top else "short notes"
    return Theme(label, _sentence(entries, top), quotes, tuple(e.id for e in _ordered(entries)))


def _top_terms(score: Any, weight: Any, terms: Any) -> list[str]:
    """The most distinctive terms; a phrase hides the single words it contains."""
    import numpy as np

    order = np.lexsort((np.arange(len(score)), -weight, -score))
    picked: list[str] = []
    for index in order[: LABEL_TERMS * 6]:
        if weight[index] <= 0:
            continue
        term = str(terms[index])
        words = set(term.split())
        if any(words <= set(p.split()) or set(p.split()) <= words for p in picked):
            # Prefer the phrase: replace a single word it contains.
            for i, p in enumerate(picked):
                if set(p.split()) < words:
                    picked[i] = term
            continue
        picked.append(term)
        if len(picked) == LABEL_TERMS:
            break
    return list(dict.fromkeys(picked))


def _quotes(
    docs: list[_Doc],
    members: list[int],
    inside: Any,
    centre: Any,
    vectorizer: Any,
    max_quotes: int,
) -> tuple[Quote, ...]:
    """The sentences closest to the theme's centre, from different entries (and, when there is
    a choice, different authors)."""
    import numpy as np

    norm = float(np.linalg.norm(centre)) or 1.0
    closeness = np.asarray(inside @ centre).ravel() / norm
    order = np.lexsort((np.arange(len(members)), -closeness))[:QUOTE_CANDIDATES]
    candidates: list[tuple[float, int, int, str]] = []
    for rank, local in enumerate(order):
        doc = docs[members[int(local)]]
        parts = sentences(doc.text)
        if not parts:
            continue
        vectors = vectorizer.transform(parts)
        scores = np.asarray(vectors @ centre).ravel() / norm
        for pos, (part, score) in enumerate(zip(parts, scores, strict=True)):
            fit = float(score)
            if len(part.split()) < QUOTE_MIN_WORDS or len(part) > QUOTE_MAX_CHARS:
                fit -= 1.0  # usable only when nothing better exists
            candidates.append((fit, rank, pos, part))
    candidates.sort(key=lambda c: (-c[0], c[1], c[2]))
    chosen: list[Quote] = []
    used_docs: set[int] = set()
    authors: set[str] = set()
    for repeat_authors in (False, True):
        for _fit, rank, _pos, part in candidates:
            if len(chosen) >= max_quotes:
                break
            entry = docs[members[int(order[rank])]].entries[0]
            if rank in used_docs or (entry.author in authors and not repeat_authors):
                continue
            chosen.append(Quote(entry.id, part, entry.author))
            used_docs.add(rank)
            authors.add(entry.author)
    return tuple(chosen)


def _ordered(entries: list[Entry]) -> list[Entry]:
    return sorted(entries, key=lambda e: (e.created_at is None, e.created_at or 0, e.id))


def _plain_theme(docs: list[_Doc], max_quotes: int) -> Theme:
    entries = [e for d in docs for e in d.entries]
    quotes = []
    for doc in docs[:max_quotes]:
        parts = sentences(doc.text)
        if parts:
            first = doc.entries[0]
            quotes.append(Quote(first.id, parts[0], first.author))
    return Theme("short notes", _sentence(entries, []), tuple(quotes), tuple(e.id for e in entries))


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return f"{', '.join(words[:-1])} and {words[-1]}"


def _sentence(entries: list[Entry], top: list[str]) -> str:
    """One or two sentences: how many wrote about what, and how surprising it felt."""
    people = len({e.author for e in entries})
    count = len(entries)
    noun = "entry" if count == 1 else "entries"
    who = "one person" if people == 1 else f"{people} people"
    about = f" keep returning to {_join(top)}" if top else " are short notes"
    if count == 1:
        about = f" is about {_join(top)}" if top else " is a short note"
    first = f"{count} {noun} from {who}{about}."
    scores = [e.surprise for e in entries if e.surprise is not None]
    if not scores:
        return first
    mean = sum(scores) / len(scores)
    if mean >= 65:
        return f"{first} Much of it felt surprising (average surprise {mean:.0f} of 100)."
    if mean <= 35:
        return f"{first} Mostly as expected (average surprise {mean:.0f} of 100)."
    return first


def _label_words(theme: Theme) -> str:
    return _join(theme.label.split(", "))


def _questions(themes: list[Theme], entries: list[Entry]) -> tuple[str, ...]:
    """Questions for next week, from what the themes show: the most surprising theme, the
    biggest one, and a theme only one person raised."""
    if not themes:
        return ()
    surprise = {e.id: e.surprise for e in entries}
    out: list[str] = []

    def mean_surprise(theme: Theme) -> float:
        values = [s for i in theme.entry_ids if (s := surprise.get(i)) is not None]
        return sum(values) / len(values) if values else -1.0

    hottest = max(themes, key=lambda t: (mean_surprise(t), -themes.index(t)))
    if mean_surprise(hottest) >= 60:
        out.append(
            f"What surprised us about {_label_words(hottest)}, "
            "and which assumption does it challenge?"
        )
    biggest = themes[0]
    out.append(f"What could we try next week to learn more about {_label_words(biggest)}?")
    authors = {e.id: e.author for e in entries}
    for theme in themes[1:]:
        if len({authors[i] for i in theme.entry_ids}) == 1:
            out.append(
                f"Only one person wrote about {_label_words(theme)}: has anyone else seen this?"
            )
            break
    return tuple(dict.fromkeys(out))[:MAX_QUESTIONS]

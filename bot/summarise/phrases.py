"""Theme labels: a short phrase people used (two to four words, found in the entries), chosen
by how distinctive its words are for the theme against the rest of the week (the c-TF-IDF idea
applied to phrases), and by how many of the theme's entries use it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from bot.summarise.sentences import sentences

MIN_WORDS = 2
MAX_WORDS = 4
# Phrases are read from the texts nearest the theme's centre: enough to find the common ones.
LABEL_TEXTS = 200
# A clause ends at these; a phrase never spans two clauses.
_CLAUSE = re.compile(r"[,;:()\[\]\"“”‘’—–]|\s-\s")
_WORD = re.compile(r"(?u)[^\W\d_][\w'’-]*")


def candidates(
    texts: Sequence[str],
    stop: frozenset[str],
    stem: Callable[[str], str],
    banned: frozenset[str] = frozenset(),
) -> dict[tuple[str, ...], tuple[int, Counter[str]]]:
    """Phrases of MIN_WORDS..MAX_WORDS words within a clause that neither start nor end with a
    stop word and hold no banned word (names): stems -> (texts using it, its spellings)."""
    found: dict[tuple[str, ...], tuple[int, Counter[str]]] = {}
    for text in texts:
        in_text: dict[tuple[str, ...], str] = {}
        for sentence in sentences(text):
            for clause in _CLAUSE.split(sentence):
                words = _WORD.findall(clause)
                lower = [w.lower() for w in words]
                for i in range(len(words)):
                    if lower[i] in stop or lower[i] in banned:
                        continue
                    for n in range(MIN_WORDS, MAX_WORDS + 1):
                        j = i + n
                        if j > len(words):
                            break
                        if lower[j - 1] in banned:
                            break
                        if lower[j - 1] in stop:
                            continue
                        key = tuple(stem(w) for w in lower[i:j])
                        in_text.setdefault(key, " ".join(lower[i:j]))
        for key, surface in in_text.items():
            count, spellings = found.get(key, (0, Counter()))
            spellings[surface] += 1
            found[key] = (count + 1, spellings)
    return found


# Common past-tense verbs that do not end in -ed.
_IRREGULAR = frozenset(
    [
        "ran",
        "went",
        "got",
        "made",
        "took",
        "gave",
        "saw",
        "came",
        "found",
        "told",
        "said",
        "knew",
        "thought",
        "brought",
        "bought",
        "felt",
        "kept",
        "left",
        "met",
        "paid",
        "put",
        "read",
        "sat",
        "set",
        "sent",
        "spent",
        "stood",
        "taught",
        "understood",
        "wrote",
        "began",
        "became",
        "chose",
        "drove",
        "fell",
        "forgot",
        "gone",
        "done",
        "seen",
    ]
)


def past_verb(word: str) -> bool:
    """A past-tense verb, as far as its form shows (not a noun like "need" or "bed")."""
    return word in _IRREGULAR or (len(word) > 4 and word.endswith("ed"))


def label(
    texts: Sequence[str],
    weight: Mapping[str, float],
    stop: frozenset[str],
    stem: Callable[[str], str],
    banned: frozenset[str] = frozenset(),
) -> str | None:
    """The best phrase of the theme's texts (nearest its centre first), or None. `weight` is how
    distinctive each stemmed word is for this theme against the rest of the week."""
    shared = len(texts) >= 3
    best: tuple[float, str] | None = None
    for key, (count, spellings) in candidates(texts[:LABEL_TEXTS], stop, stem, banned).items():
        content = [weight.get(s, 0.0) for s in key]
        positive = [w for w in content if w > 0]
        if len(positive) < 2 or content[0] <= 0 or content[-1] <= 0:
            continue  # both ends must be words of the theme
        words = [w for w in next(iter(spellings)).split()]
        if past_verb(words[-1]):
            continue  # "people asked": a clause, not a name for a theme
        score = sum(positive) / len(key) ** 0.5
        if past_verb(words[0]):
            score *= 0.6  # "ran the cardiogram" names what was done, after what it was about
        score *= 1.0 + 0.5 * (count - 1)
        if shared and count < 2:
            score *= 0.5  # a phrase of one text ranks after those several share
        surface = min(spellings.items(), key=lambda kv: (-kv[1], kv[0]))[0]
        if best is None or (score, surface) > best:
            best = (score, surface)
    return best[1] if best else None

"""What the offline summariser counts in a text: stemmed words (Snowball), English stop words,
the words of reflection and people's names left out, and the two-word phrases the rest form.

Names go because a theme is what people wrote about, not who they wrote with: on a planted week
whose entries mention the same colleagues across every theme, clusters formed around first names
until they were left out. Sentences repeated word for word across several entries ("Talked it
over with Maureen afterwards.") are a group's stock remarks; they are left out of the features
too, or they pull unrelated entries together."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import snowballstemmer  # type: ignore[import-untyped]

from bot.summarise.sentences import sentences

# Words every reflection uses (the prompts' own verbs, time, contraction stubs): they say nothing
# about what a theme is, so they neither group texts nor label them.
_REFLECTION = """
    week weeks day days today yesterday tomorrow month months time times year monday tuesday
    wednesday thursday friday saturday sunday morning afternoon evening
    try tried trying noticed notice felt feel feeling think thinks thought really just got get
    getting went did doing does thing things lot bit bits maybe actually ll ve don didn doesn
    isn wasn want wants wanted talked talk said says told tell sure next worth keep kept going
    make made afterwards again
"""
REFLECTION_WORDS = frozenset(_REFLECTION.split())
TOKEN = re.compile(r"(?u)\b\w\w+\b")
_WORD = re.compile(r"(?u)\b\w[\w'’-]*\b")
# Texts read to find names and stock remarks: enough to see them, the same cost at any size.
SCAN_SAMPLE = 5000
# A sentence in this many entries, word for word, with at most this many words of substance
# (not stop words, words of reflection or names), is a stock remark.
STOCK_REPEATS = 3
STOCK_MAX_CONTENT = 1


def stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS) | REFLECTION_WORDS


def names(texts: Iterable[str]) -> frozenset[str]:
    """Lower-cased words written only with a capital, and at least once inside a sentence
    (not first): people's and places' names, as far as the texts show."""
    capital: Counter[str] = Counter()
    lower: set[str] = set()
    for count, text in enumerate(texts):
        if count >= SCAN_SAMPLE:
            break
        for sentence in sentences(text):
            for position, word in enumerate(_WORD.findall(sentence)):
                if word[0].isupper():
                    if position:
                        capital[word.lower()] += 1
                else:
                    lower.add(word.lower())
    return frozenset(w for w in capital if w not in lower and w.isalpha())


def stock_sentences(texts: Sequence[str], analyzer: Analyzer) -> frozenset[str]:
    """Sentences (case-folded) found word for word in several different texts that say next
    to nothing of their own ("We will see whether it lasts."). A repeated sentence with words
    of substance stays: in a templated form or a copied line, those words are the theme."""
    seen: Counter[str] = Counter()
    for text in texts[:SCAN_SAMPLE]:
        for sentence in {" ".join(s.split()).casefold() for s in sentences(text)}:
            seen[sentence] += 1
    return frozenset(
        s
        for s, n in seen.items()
        if n >= STOCK_REPEATS and len(analyzer.words(s)) <= STOCK_MAX_CONTENT
    )


def without(text: str, stock: frozenset[str]) -> str:
    """`text` less its stock sentences (the whole text when that would leave nothing)."""
    if not stock:
        return text
    kept = [s for s in sentences(text) if " ".join(s.split()).casefold() not in stock]
    return " ".join(kept) if kept else text


@dataclass(frozen=True)
class Steps:
    """The offline summariser's steps, each of which can be left out to measure what it buys
    (`bench/digest_planted.py`); all on in the bot."""

    history: bool = True  # fit the feature space on the group's earlier weeks too
    stem: bool = True  # Snowball stems
    names: bool = True  # people's names out of features and labels
    stock: bool = True  # stock remarks out of features and quotes
    split: bool = True  # an entry of several full thoughts clustered sentence by sentence


class Analyzer:
    """Words of two or more letters, stop words and names left out, each reduced to its
    Snowball stem; then the words and the two-word phrases they form."""

    def __init__(self, left_out: frozenset[str] = frozenset(), *, stem: bool = True) -> None:
        self._stop = stop_words() | left_out
        self._stemmer = snowballstemmer.stemmer("english") if stem else None
        self._stems: dict[str, str] = {}

    def stem(self, token: str) -> str:
        found = self._stems.get(token)
        if found is None:
            stemmer = self._stemmer
            found = str(stemmer.stemWord(token)) if stemmer is not None else token
            self._stems[token] = found
        return found

    def words(self, text: str) -> list[str]:
        # Numbers are no theme ("visit 12"), and each new one would cost a stemming.
        # The cache is read inline: a week of 100,000 entries has millions of words.
        stop, stems, stem = self._stop, self._stems, self.stem
        return [
            stems.get(t) or stem(t)
            for t in TOKEN.findall(text.lower())
            if t not in stop and t.isalpha()
        ]

    def __call__(self, text: str) -> list[str]:
        words = self.words(text)
        return words + [f"{a} {b}" for a, b in pairwise(words)]

"""Synthetic check-ins in the words members write: a handful of themes, each with its own
vocabulary, mixed with words every reflection uses. Deterministic for a given seed, and every
text is different (as real entries are), so duplicate folding does not flatter the summariser."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

THEMES: dict[str, tuple[list[str], list[str]]] = {
    "transport": (
        ["bus", "timetable", "driver", "route", "fare", "van", "lift", "stop", "journey"],
        ["missed", "changed", "cancelled", "waited for", "mapped", "paid for", "shared"],
    ),
    "cardiogram": (
        ["cardiogram", "nurse", "patient", "kit", "trace", "doorstep", "clinic", "heart"],
        ["offered", "repeated", "read", "carried", "explained", "checked", "booked"],
    ),
    "housing": (
        ["landlord", "damp", "tenant", "repairs", "mould", "flat", "council", "rent"],
        ["reported", "inspected", "wrote about", "photographed", "challenged", "fixed"],
    ),
    "food": (
        ["pantry", "meal", "voucher", "kitchen", "volunteer", "parcel", "fridge", "school"],
        ["cooked", "collected", "delivered", "swapped", "planned", "stocked"],
    ),
    "loneliness": (
        ["neighbour", "visit", "phone call", "friendship", "club", "library", "garden"],
        ["arranged", "joined", "started", "missed", "welcomed", "introduced"],
    ),
    "paperwork": (
        ["form", "benefit", "appeal", "letter", "deadline", "advice", "appointment"],
        ["filled in", "posted", "chased", "read out", "translated", "signed"],
    ),
}
WHO = ["Mrs K", "the family", "our team", "a volunteer", "the GP", "two residents", "the officer"]
OPENERS = [
    "This week {who} {verb} the {a} and the {b} together.",
    "We {verb} the {a} after the {b} fell through again.",
    "{who} {verb} a {a}; nobody expected the {b} to matter this much.",
    "I {verb} the {a} with {who}, and the {b} came up straight away.",
]
LEARNED = [
    "What surprised me was how much the {a} depends on the {b}.",
    "People trust the {a} more when the {b} is sorted first.",
    "The {a} only works if someone follows up on the {b}.",
    "It turns out the {b} was the real problem, not the {a}.",
]
NEXT = [
    "Next we will try the {a} again at the {b}.",
    "Next time I will ask about the {b} before the {a}.",
    "We plan to test whether the {a} helps without the {b}.",
]


@dataclass(frozen=True)
class Text:
    happened: str
    learned: str
    next: str
    surprise: int
    confidence: int

    @property
    def whole(self) -> str:
        return "\n\n".join((self.happened, self.learned, self.next))


def texts(count: int, seed: int = 7) -> Iterator[Text]:
    rnd = random.Random(seed)
    names = list(THEMES)
    for i in range(count):
        nouns, verbs = THEMES[names[rnd.randrange(len(names))]]
        a, b = rnd.sample(nouns, 2)
        fill = {"who": rnd.choice(WHO), "verb": rnd.choice(verbs), "a": a, "b": b}
        happened = rnd.choice(OPENERS).format(**fill)
        happened = happened[0].upper() + happened[1:] + f" Visit {i + 1}."
        yield Text(
            happened,
            rnd.choice(LEARNED).format(**fill),
            rnd.choice(NEXT).format(**fill),
            rnd.randint(0, 100),
            rnd.randint(0, 100),
        )

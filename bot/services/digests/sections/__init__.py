"""Every digest section, in the order digests show them; each variant shows the sections that
have a render for it. A new section is a module in this folder with a `SECTION`, and one line
here."""

from __future__ import annotations

from bot.services.digests.sections import (
    assumptions,
    changes,
    choices,
    connected,
    governance,
    insight,
    learning,
    momentum,
    note,
    questions,
    replications,
    respond,
    said,
    surprises,
)
from bot.services.digests.sections.section import DigestSection

SECTIONS: tuple[DigestSection, ...] = (
    said.SECTION,
    note.SECTION,
    momentum.SECTION,
    learning.SECTION,
    respond.SECTION,
    choices.SECTION,
    surprises.SECTION,
    assumptions.SECTION,
    insight.SECTION,
    changes.SECTION,
    replications.SECTION,
    connected.SECTION,
    governance.SECTION,
    questions.SECTION,
)


def for_variant(variant: str) -> tuple[DigestSection, ...]:
    return tuple(s for s in SECTIONS if variant in s.render)

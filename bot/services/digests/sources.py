"""A theme's sources: the ids of the entries a digest's theme draws on, kept with the stored
digest rather than printed under it. Found by the theme's label or its number."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.plural import plural
from bot.errors import UserError
from bot.services.digests.stored import find_digest, latest_posted
from bot.services.digests.variants import GROUP

MAX_LISTED = 200  # ids in one reply; the rest are counted


@dataclass(frozen=True)
class ThemeSources:
    week: str
    label: str
    entry_ids: tuple[str, ...]
    quote_ids: tuple[str, ...]


def _normal(text: str) -> str:
    return " ".join(text.split()).casefold().strip("“”\"'*")


async def theme_sources(
    session: AsyncSession, group_id: int, week: str, wanted: str
) -> ThemeSources:
    """The sources of the theme `wanted` (its label, part of it, or its number) in this week's
    digest (posted, or the draft a preview left), else in the latest posted one."""
    digest = await find_digest(session, group_id, week, GROUP) or await latest_posted(
        session, group_id
    )
    themes = list(digest.themes or ()) if digest is not None else []
    if digest is None or not themes:
        raise UserError("No digest with themes yet: `digest preview` builds this week's.")
    key = _normal(wanted)
    labels = [str(t.get("label", "")) for t in themes]
    if key.isdigit() and 1 <= int(key) <= len(themes):
        index = int(key) - 1
    else:
        exact = [i for i, label in enumerate(labels) if _normal(label) == key]
        partial = [i for i, label in enumerate(labels) if key and key in _normal(label)]
        found = exact or partial
        if len(found) != 1:
            listed = "; ".join(f"{n}. {label}" for n, label in enumerate(labels, 1))
            problem = "matches several themes" if found else "is not a theme"
            raise UserError(
                f"'{wanted[:60]}' {problem} of the {digest.week} digest. Its themes: {listed}. "
                "Use a label or a number, e.g. `digest sources 1`."
            )
        index = found[0]
    theme = themes[index]
    return ThemeSources(
        digest.week,
        labels[index],
        tuple(str(i) for i in theme.get("entry_ids", ())),
        tuple(str(i) for i in theme.get("quote_ids", ())),
    )


def describe(found: ThemeSources) -> str:
    ids = list(found.entry_ids)
    shown = ", ".join(ids[:MAX_LISTED])
    more = f" and {len(ids) - MAX_LISTED} more" if len(ids) > MAX_LISTED else ""
    quoted = ", ".join(found.quote_ids) or "none"
    return (
        f"“{found.label}” ({found.week}) draws on {plural(len(ids), 'entry', 'entries')}: "
        f"{shown}{more}. "
        f"Quoted: {quoted}."
    )

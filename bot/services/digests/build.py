"""Building a week's digests from one gathering and one summary, and storing them as drafts.
A digest already posted is never rebuilt: it stays as it went out."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain import Message
from bot.errors import UserError
from bot.services import charts
from bot.services.context import Deps
from bot.services.digests import conversation, curation
from bot.services.digests.render import message, plain_text
from bot.services.digests.sections import surprises
from bot.services.digests.stored import DRAFT, POSTED, find_digest
from bot.services.digests.summary import summarise
from bot.services.digests.variants import GROUP, VARIANTS
from bot.services.digests.week import WeekData, gather
from bot.store.models import Digest, Group
from bot.store.upsert import insert_ignore


async def build_digests(
    deps: Deps, session: AsyncSession, group: Group, week: str, variants: Sequence[str]
) -> dict[str, Digest]:
    """Build (or rebuild the drafts of) the week's digests from one gathering and one summary.
    A digest already posted is returned as it was posted."""
    for variant in variants:
        if variant not in VARIANTS:
            raise UserError(f"variant must be one of: {', '.join(VARIANTS)}.")
    out: dict[str, Digest] = {}
    todo = []
    for variant in variants:
        existing = await find_digest(session, group.id, week, variant)
        if existing is not None and existing.state == POSTED:
            out[variant] = existing
        else:
            todo.append(variant)
    if not todo:
        return out
    data = await gather(session, group, week)
    summary = await summarise(
        deps, data.entries, max_themes=deps.settings.digest.max_themes, history=data.history_texts
    )
    # The group row exists before rendering: its id keys the theme answers, and its edits curate.
    row = await _row(session, group, week)
    curated = curation.apply(summary, row.edits)
    summary = curated.summary
    data.conversation = await conversation.gather(session, group, week, row.id, row.edits or [])
    chart = await _chart(deps.settings, data) if deps.settings.digest.charts else None
    entry_ids = sorted(
        {e.id for e in data.entries} | {e.id for link in data.connected for e in link.entries},
        key=_id_order,
    )
    for variant in todo:
        out[variant] = await _store(
            session,
            group,
            week,
            variant,
            message(data, summary, variant, chart[0] if chart else None, chart[1] if chart else ""),
            entry_ids,
            chart[0] if chart else None,
            summary.summariser,
            curation.stored_themes(curated),
        )
    return out


async def build_digest(
    deps: Deps, session: AsyncSession, group: Group, week: str, variant: str
) -> Digest:
    return (await build_digests(deps, session, group, week, (variant,)))[variant]


def _id_order(entry_id: str) -> tuple[str, int]:
    kind, _, number = entry_id.partition(":")
    return kind, int(number) if number.isdigit() else 0


async def _chart(settings: Settings, data: WeekData) -> tuple[str, str]:
    """The chart's file and its alt text. Surprise is counted per answer and per check-in:
    a round answer's one rating is not one per question."""
    path = settings.bot.data_dir / "charts" / f"digest-{data.group.id}-{data.week}.png"
    ratings = [r for a in data.answers if (r := surprises.rating(a)) is not None]
    chart = charts.ChartData(
        f"{data.group.name} · {data.week}",
        data.history,
        ratings,
        dict(Counter(e.status for e in data.experiments if e.started_at < data.end)),
    )
    return str(await charts.render_async(chart, path)), charts.alt_text(chart)


async def _store(
    session: AsyncSession,
    group: Group,
    week: str,
    variant: str,
    message: Message,
    entry_ids: list[str],
    chart: str | None,
    summariser: str,
    themes: list[dict[str, object]],
) -> Digest:
    values = {
        "text": plain_text(message),
        "content": message.to_json(),
        "entry_ids": entry_ids,
        "chart_path": chart,
        "summariser": summariser,
        # The themes' sources stay with the digest (for `digest sources`), out of its text.
        "themes": themes,
    }
    await insert_ignore(
        session,
        Digest,
        {"group_id": group.id, "week": week, "variant": variant, "state": DRAFT, **values},
        ["group_id", "week", "variant"],
    )
    digest = await find_digest(session, group.id, week, variant)
    assert digest is not None
    if digest.state != POSTED:  # a concurrent publisher may have posted it meanwhile
        for key, value in values.items():
            setattr(digest, key, value)
    return digest


async def _row(session: AsyncSession, group: Group, week: str) -> Digest:
    """The week's group digest row, created as an empty draft when there is none yet."""
    empty = {"text": "", "content": Message("").to_json(), "entry_ids": [], "themes": []}
    await insert_ignore(
        session,
        Digest,
        {"group_id": group.id, "week": week, "variant": GROUP, "state": DRAFT, **empty},
        ["group_id", "week", "variant"],
    )
    digest = await find_digest(session, group.id, week, GROUP)
    assert digest is not None
    return digest

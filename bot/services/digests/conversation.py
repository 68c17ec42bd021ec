"""The digest as a conversation: what members said about last week's themes, the facilitators'
note, and what earlier weeks looked like, gathered once for this week's sections.

Only shareable answers (visibility `group`) are counted or quoted; a differing voice is quoted
verbatim, by name only when its author chose `named`, otherwise as "a member" (no label at all,
so nothing links one person's words across digests)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services.digests.curation import Edit, note_of
from bot.services.digests.isoweek import week_bounds, weeks_before
from bot.services.digests.responses import AGREE, DIFFER, SHAREABLE
from bot.services.digests.stored import POSTED
from bot.services.digests.variants import GROUP
from bot.store.models import CheckIn, Digest, DigestResponse, Experiment, Group, Member

LOOKBACK = 4  # earlier weeks "What changed" compares this week with
MOVED = 10  # points of mean confidence that count as a move


@dataclass(frozen=True)
class Voice:
    text: str
    author: str  # the author's name when they chose `named`, else "a member"


@dataclass(frozen=True)
class ThemeAnswers:
    position: int
    label: str
    agreed: int
    differ: tuple[Voice, ...]


@dataclass(frozen=True)
class Moved:
    experiment_id: int
    title: str
    before: float
    after: float


@dataclass(frozen=True)
class Conversation:
    digest_id: int | None = None  # the stored group digest the theme answers point at
    last_week: str | None = None
    said: tuple[ThemeAnswers, ...] = ()
    note: str = ""
    # Earlier weeks' theme labels, oldest first: (week, labels).
    past_themes: tuple[tuple[str, tuple[str, ...]], ...] = ()
    moved: tuple[Moved, ...] = ()


async def gather(
    session: AsyncSession, group: Group, week: str, digest_id: int, edits: list[Edit]
) -> Conversation:
    earlier = weeks_before(week, LOOKBACK + 1)[:-1]
    posted = {
        d.week: d
        for d in (
            await session.execute(
                select(Digest).where(
                    Digest.group_id == group.id,
                    Digest.variant == GROUP,
                    Digest.state == POSTED,
                    Digest.week.in_(earlier),
                )
            )
        ).scalars()
    }
    last = earlier[-1]
    said = await _answers(session, posted[last]) if last in posted else ()
    return Conversation(
        digest_id=digest_id,
        last_week=last if last in posted else None,
        said=said,
        note=note_of(edits),
        past_themes=tuple(
            (w, tuple(str(t.get("label", "")) for t in posted[w].themes or ()))
            for w in earlier
            if w in posted
        ),
        moved=await _moved(session, group, week),
    )


async def _answers(session: AsyncSession, digest: Digest) -> tuple[ThemeAnswers, ...]:
    rows = (
        await session.execute(
            select(DigestResponse, Member.display_name)
            .join(Member, DigestResponse.member_id == Member.id)
            .where(DigestResponse.digest_id == digest.id, DigestResponse.visibility == SHAREABLE)
            .order_by(DigestResponse.created_at, DigestResponse.id)
        )
    ).all()
    names = {r.id: name for r, name in rows}
    out = []
    for position, theme in enumerate(digest.themes or (), start=1):
        mine = [r for r, _ in rows if r.theme == position]
        voices = tuple(
            Voice(r.text.strip(), names[r.id] if r.named else "a member")
            for r in mine
            if r.stance == DIFFER and r.text.strip()
        )
        agreed = sum(1 for r in mine if r.stance == AGREE)
        if agreed or voices:
            out.append(ThemeAnswers(position, str(theme.get("label", "")), agreed, voices))
    return tuple(out)


async def _moved(session: AsyncSession, group: Group, week: str) -> tuple[Moved, ...]:
    """Experiments whose mean confidence (shareable check-ins) moved by MOVED points or more
    from before this week to the end of it."""
    start, end = week_bounds(week, group.timezone)
    before = await _means(session, group.id, start)
    after = await _means(session, group.id, end)
    out = []
    for experiment_id, (title, mean) in sorted(after.items()):
        if experiment_id in before and abs(mean - before[experiment_id][1]) >= MOVED:
            out.append(Moved(experiment_id, title, before[experiment_id][1], mean))
    return tuple(out)


async def _means(
    session: AsyncSession, group_id: int, until: datetime
) -> dict[int, tuple[str, float]]:
    rows = await session.execute(
        select(Experiment.id, Experiment.title, func.avg(CheckIn.confidence))
        .join(CheckIn, CheckIn.experiment_id == Experiment.id)
        .where(
            Experiment.group_id == group_id,
            CheckIn.visibility == SHAREABLE,
            CheckIn.created_at < until,
        )
        .group_by(Experiment.id, Experiment.title)
    )
    return {int(eid): (str(title), float(mean)) for eid, title, mean in rows.all()}

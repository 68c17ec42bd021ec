"""Shareable entries: the check-ins and round answers a digest (or a model) may read.

Only entries with visibility `group` ever leave this module. Each carries its author's display
name when the author chose `named`, and otherwise a label that holds for one digest or one round
summary only (see `anonymous_labels`): nothing about it links quotes across weeks."""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Visibility
from bot.services import cycles
from bot.store.models import CheckIn, Cycle, Experiment, Member, Response, Round
from bot.summarise import Entry

SHAREABLE = Visibility.GROUP.value
ANONYMOUS = "a member"  # until `relabel` gives the entry its label


@dataclass(frozen=True)
class GroupEntry:
    """A shareable entry with what a digest needs beside its text."""

    entry: Entry  # pseudonymised, ready for a summariser
    kind: str  # "checkin" | "response"
    row_id: int
    member_id: int
    group_id: int
    created_at: datetime
    experiment_id: int | None = None
    round_id: int | None = None
    prompt_key: str | None = None
    surprise: int | None = None
    confidence: int | None = None
    named: bool = False  # the author chose to be quoted by name
    # A check-in's fields as written (happened, learned, next): which one carries a surprise.
    raw_fields: tuple[str | None, ...] = ()

    @property
    def fields(self) -> tuple[tuple[str, str], ...]:
        """(name, text) of each non-empty field; named only when asked, for a few entries."""
        named = zip(("happened", "learned", "next"), self.raw_fields, strict=False)
        return tuple((name, text.strip()) for name, text in named if text and text.strip())

    @property
    def id(self) -> str:
        return self.entry.id


def _letters(n: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA: as many labels as there are authors."""
    out = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def anonymous_labels(
    authors: Sequence[tuple[int, bool]], rng: random.Random | None = None
) -> list[str | None]:
    """For each (member id, named) in order: "Member A", "Member B", ... for an anonymous entry,
    None for a named one.

    The labels hold for one call, that is one digest or one round summary: a member's anonymous
    entries share one label there, so a reader can follow a thread, and the letters are drawn at
    random every time, so they say nothing about who wrote first and never carry over. A member
    who is named on any entry in the call gets a label of its own for each anonymous entry,
    so nothing ties those entries to the name or to each other."""
    named = {member for member, is_named in authors if is_named}
    keys: list[object | None] = [
        None if is_named else (("entry", i) if member in named else member)
        for i, (member, is_named) in enumerate(authors)
    ]
    distinct = list(dict.fromkeys(k for k in keys if k is not None))
    order = list(range(len(distinct)))
    (rng or random.SystemRandom()).shuffle(order)
    label = {k: f"Member {_letters(n)}" for k, n in zip(distinct, order, strict=True)}
    return [None if k is None else label[k] for k in keys]


def relabel(
    entries: Sequence[GroupEntry], rng: random.Random | None = None, *, in_place: bool = False
) -> list[GroupEntry]:
    """The entries with fresh anonymous labels drawn over all of them (one digest). An entry
    listed twice (in the group's week and in a connected cycle) keeps one label.

    `in_place` is for entries the caller just collected unlabelled and shares with nobody (a
    digest's week): their author is set where they stand. At 100,000 entries, building two new
    objects per entry cost about 2 s, most of it the garbage collector walking the week."""
    unique = list({e.id: e for e in entries}.values())
    found = anonymous_labels([(e.member_id, e.named) for e in unique], rng)
    by_id = dict(zip((e.id for e in unique), found, strict=True))
    if in_place:
        for e in entries:
            label = by_id[e.id]
            if label is not None:
                object.__setattr__(e.entry, "author", label)
        return list(entries)
    return [e if by_id[e.id] is None else _authored(e, str(by_id[e.id])) for e in entries]


def _authored(e: GroupEntry, author: str) -> GroupEntry:
    """`e` under another author. Copied field by field without running the frozen dataclasses'
    `__init__` (which sets each field through `object.__setattr__`): a digest relabels every
    entry of the week, and at 100,000 entries `dataclasses.replace` cost seconds."""
    entry = object.__new__(Entry)
    entry.__dict__.update(e.entry.__dict__)
    entry.__dict__["author"] = author
    out = object.__new__(GroupEntry)
    out.__dict__.update(e.__dict__)
    out.__dict__["entry"] = entry
    return out


async def display_names(session: AsyncSession, member_ids: Iterable[int]) -> dict[int, str]:
    ids = sorted(set(member_ids))
    if not ids:
        return {}
    rows = await session.execute(select(Member.id, Member.display_name).where(Member.id.in_(ids)))
    return {int(mid): str(name) for mid, name in rows.all()}


def checkin_text(checkin: CheckIn) -> str:
    """The member's own words, field by field; blank lines keep a quote inside one field."""
    return _words(checkin.happened, checkin.learned, checkin.next)


def _words(*parts: str | None) -> str:
    return "\n\n".join(p.strip() for p in parts if p and p.strip())


async def collect(
    session: AsyncSession,
    group_ids: Sequence[int],
    start: datetime,
    end: datetime,
    *,
    cycle_ids: Sequence[int] | None = None,
    include_responses: bool = True,
    label: bool = True,
) -> list[GroupEntry]:
    """Shareable entries written in [start, end): check-ins on the groups' experiments (only
    those in `cycle_ids` when given) and answers to the groups' rounds. Oldest first.

    With `label=False` anonymous entries keep the placeholder author: for a caller that labels
    several collections at once (a digest), so no entry is labelled twice."""
    if not group_ids:
        return []
    # Columns, not ORM rows: a big group's week is tens of thousands of check-ins, and the
    # session would keep every one of them as an object while the summariser runs.
    checkin_query = (
        select(
            CheckIn.id,
            CheckIn.member_id,
            CheckIn.experiment_id,
            CheckIn.happened,
            CheckIn.learned,
            CheckIn.next,
            CheckIn.named,
            CheckIn.surprise,
            CheckIn.confidence,
            CheckIn.created_at,
            Experiment.group_id,
        )
        .join(Experiment, CheckIn.experiment_id == Experiment.id)
        .where(
            Experiment.group_id.in_(group_ids),
            CheckIn.visibility == SHAREABLE,
            CheckIn.created_at >= start,
            CheckIn.created_at < end,
        )
    )
    if cycle_ids is not None:
        checkin_query = checkin_query.where(Experiment.cycle_id.in_(cycle_ids))
    checkins = (await session.execute(checkin_query)).all()
    responses: list[tuple[Response, int]] = []
    if include_responses:
        response_query = (
            select(Response, Round.group_id)
            .join(Round, Response.round_id == Round.id)
            .where(
                Round.group_id.in_(group_ids),
                Response.visibility == SHAREABLE,
                # Choice and dyad answers are counted (digest section `choices`), not quoted.
                Response.kind == "text",
                Response.created_at >= start,
                Response.created_at < end,
            )
        )
        responses = [(r, g) for r, g in (await session.execute(response_query)).all()]
    names = await display_names(
        session,
        [c.member_id for c in checkins if c.named] + [r.member_id for r, _ in responses if r.named],
    )

    def author(member_id: int, named: bool) -> str:
        # Anonymous entries are labelled at the end, once every entry of this call is known.
        return names.get(member_id, ANONYMOUS) if named else ANONYMOUS

    out: list[GroupEntry] = []
    for c in checkins:
        entry = Entry(
            f"checkin:{c.id}",
            _words(c.happened, c.learned, c.next),
            author(c.member_id, c.named),
            c.surprise,
            c.created_at,
        )
        out.append(
            GroupEntry(
                entry,
                "checkin",
                c.id,
                c.member_id,
                c.group_id,
                c.created_at,
                experiment_id=c.experiment_id,
                surprise=c.surprise,
                confidence=c.confidence,
                named=c.named,
                raw_fields=(c.happened, c.learned, c.next),
            )
        )
    for r, group_id in responses:
        entry = Entry(
            f"response:{r.id}",
            r.text.strip(),
            author(r.member_id, r.named),
            r.surprise,
            r.created_at,
        )
        out.append(
            GroupEntry(
                entry,
                "response",
                r.id,
                r.member_id,
                group_id,
                r.created_at,
                round_id=r.round_id,
                prompt_key=r.prompt_key,
                surprise=r.surprise,
                named=r.named,
            )
        )
    out = [e for e in out if e.entry.text]
    out.sort(key=lambda e: (e.created_at, e.kind, e.row_id))
    return relabel(out) if label else out


HISTORY_DAYS = 28
HISTORY_TEXTS = 4000


async def earlier_texts(
    session: AsyncSession, group_id: int, before: datetime, *, limit: int = HISTORY_TEXTS
) -> list[str]:
    """The group's shareable words from the weeks before `before`, newest first, at most
    `limit` texts: what a summariser may learn the group's vocabulary from. Texts only: no
    author, no id, so nothing here can be quoted or traced."""
    start = before - timedelta(days=HISTORY_DAYS)
    checkins = await session.execute(
        select(CheckIn.happened, CheckIn.learned, CheckIn.next)
        .join(Experiment, CheckIn.experiment_id == Experiment.id)
        .where(
            Experiment.group_id == group_id,
            CheckIn.visibility == SHAREABLE,
            CheckIn.created_at >= start,
            CheckIn.created_at < before,
        )
        .order_by(CheckIn.created_at.desc())
        .limit(limit)
    )
    responses = await session.execute(
        select(Response.text)
        .join(Round, Response.round_id == Round.id)
        .where(
            Round.group_id == group_id,
            Response.visibility == SHAREABLE,
            Response.created_at >= start,
            Response.created_at < before,
        )
        .order_by(Response.created_at.desc())
        .limit(limit)
    )
    texts = [_words(*row) for row in checkins.all()] + [str(t).strip() for (t,) in responses.all()]
    return [t for t in texts if t][:limit]


async def group_entries(
    session: AsyncSession, group_id: int, start: datetime, end: datetime, *, label: bool = True
) -> list[GroupEntry]:
    return await collect(session, [group_id], start, end, label=label)


@dataclass(frozen=True)
class ConnectedCycle:
    """A cycle below one of the group's cycles, with its shareable check-ins in the window."""

    cycle: Cycle
    parent: Cycle
    experiments: list[Experiment]
    entries: list[GroupEntry]


async def connected_cycles(
    session: AsyncSession, group_id: int, start: datetime, end: datetime, *, label: bool = True
) -> list[ConnectedCycle]:
    """Child cycles (at any depth) of the group's cycles, for the roll-up. Their entries are the
    shareable check-ins on experiments in that child cycle, whichever group runs them."""
    own = list(
        (
            await session.execute(
                select(Cycle).where(Cycle.group_id == group_id).order_by(Cycle.id)
            )
        ).scalars()
    )
    if not own:
        return []
    out: list[ConnectedCycle] = []
    seen: set[int] = set()
    for parent in own:
        for child_id in sorted(await cycles.descendants(session, parent.id)):
            if child_id in seen:
                continue
            seen.add(child_id)
            child = await session.get(Cycle, child_id)
            if child is None:
                continue
            experiments = list(
                (
                    await session.execute(
                        select(Experiment)
                        .where(Experiment.cycle_id == child_id)
                        .order_by(Experiment.id)
                    )
                ).scalars()
            )
            group_ids = sorted({e.group_id for e in experiments})
            found = await collect(
                session,
                group_ids,
                start,
                end,
                cycle_ids=[child_id],
                include_responses=False,
                label=label,
            )
            out.append(ConnectedCycle(child, parent, experiments, found))
    return out

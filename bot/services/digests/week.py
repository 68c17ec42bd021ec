"""Gathering the week: everything a digest's sections read, in one `WeekData`, from one pass
over the store. Entries come labelled once for the whole digest (connected cycles included)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.services import alarms
from bot.services.digests.conversation import Conversation
from bot.services.digests.isoweek import iso_week, week_bounds, weeks_before
from bot.services.entries import (
    ConnectedCycle,
    GroupEntry,
    connected_cycles,
    earlier_texts,
    group_entries,
    relabel,
)
from bot.services.rounds.tallies import Tally, tallies
from bot.store.models import Alarm, CheckIn, Experiment, Group, Response, Round

HISTORY_WEEKS = 8


@dataclass
class Replication:
    copy: Experiment
    original: Experiment
    copy_group: str
    original_group: str


@dataclass
class WeekData:
    group: Group
    week: str
    start: datetime
    end: datetime
    entries: list[GroupEntry]
    experiments: list[Experiment]
    checkins_total: int
    rounds: list[Round]
    participation: dict[int, tuple[int, int]]
    replications: list[Replication]
    confidence: dict[int, tuple[float, int]]  # experiment id -> (mean confidence, check-ins)
    connected: list[ConnectedCycle]
    alarms: list[Alarm]
    history: list[tuple[str, int]]
    prompts: dict[tuple[int, str], str] = field(default_factory=dict)
    # Answers to last week, the facilitators' note, earlier weeks: set by build.py.
    conversation: Conversation = field(default_factory=Conversation)
    tallies: list[Tally] = field(default_factory=list)  # choice and dyad answers, counted
    # The group's shareable words of the weeks before: the summariser learns its vocabulary
    # from them; they are never quoted or counted.
    history_texts: list[str] = field(default_factory=list)
    # Experiment id -> mean confidence of its shareable check-ins before this week.
    confidence_before: dict[int, float] = field(default_factory=dict)

    @cached_property
    def answers(self) -> list[list[GroupEntry]]:
        """The week's shareable entries as people gave them: a check-in is one answer, and a
        member's answers to one round's questions are one, however many questions it had
        (its surprise rating is one rating, not one per question). Read by the chart and the
        surprises: grouped once."""
        out: list[list[GroupEntry]] = []
        rounds: dict[tuple[int, int], list[GroupEntry]] = {}
        for e in self.entries:
            if e.round_id is None:
                out.append([e])
                continue
            key = (e.round_id, e.member_id)
            if key not in rounds:
                rounds[key] = []
                out.append(rounds[key])
            rounds[key].append(e)
        return out

    def confidence_this_week(self) -> dict[int, float]:
        """Experiment id -> mean confidence of its shareable check-ins this week."""
        sums: dict[int, tuple[float, int]] = {}
        for e in self.entries:
            if e.experiment_id is not None and e.confidence is not None:
                total, n = sums.get(e.experiment_id, (0.0, 0))
                sums[e.experiment_id] = (total + e.confidence, n + 1)
        return {k: total / n for k, (total, n) in sums.items()}

    def started(self) -> list[Experiment]:
        return [e for e in self.experiments if self.start <= e.started_at < self.end]

    def running(self) -> list[Experiment]:
        return [e for e in self.experiments if e.status == "running" and e.started_at < self.end]

    def concluded(self) -> list[Experiment]:
        return [
            e
            for e in self.experiments
            if e.status == "concluded"
            and e.concluded_at is not None
            and self.start <= e.concluded_at < self.end
        ]

    def rate(self) -> tuple[int, int]:
        asked = sum(self.participation.get(r.id, (0, 0))[0] for r in self.rounds)
        answered = sum(self.participation.get(r.id, (0, 0))[1] for r in self.rounds)
        return asked, answered


async def gather(session: AsyncSession, group: Group, week: str) -> WeekData:
    start, end = week_bounds(week, group.timezone)
    entries, links = labelled(
        # Unlabelled here: `labelled` draws one set of labels over both, once.
        await group_entries(session, group.id, start, end, label=False),
        await connected_cycles(session, group.id, start, end, label=False),
    )
    experiments = list(
        (
            await session.execute(
                select(Experiment).where(Experiment.group_id == group.id).order_by(Experiment.id)
            )
        ).scalars()
    )
    # A count, not content: every check-in counts, whoever may read it.
    checkins_total = (
        await session.execute(
            select(func.count(CheckIn.id))
            .join(Experiment, CheckIn.experiment_id == Experiment.id)
            .where(
                Experiment.group_id == group.id,
                CheckIn.created_at >= start,
                CheckIn.created_at < end,
            )
        )
    ).scalar_one()
    rounds = list(
        (
            await session.execute(
                select(Round)
                .where(
                    Round.group_id == group.id,
                    Round.opened_at < end,
                    (Round.closed_at.is_(None)) | (Round.closed_at >= start),
                )
                .order_by(Round.id)
            )
        ).scalars()
    )
    participation = await alarms.round_participation(session, [r.id for r in rounds])
    replications = await _replications(session, group, experiments, start, end)
    involved = {e.id for e in experiments} | {
        x.id for r in replications for x in (r.copy, r.original)
    }
    return WeekData(
        group=group,
        week=week,
        start=start,
        end=end,
        entries=entries,
        experiments=experiments,
        checkins_total=int(checkins_total),
        rounds=rounds,
        participation=participation,
        replications=replications,
        confidence=await _confidence(session, involved),
        connected=links,
        alarms=await alarms.alarms_for_digest(session, group.id, start, end),
        history=await _history(session, group, week),
        prompts=await _prompts(session, entries),
        tallies=await tallies(session, group.id, start, end),
        history_texts=await earlier_texts(session, group.id, start),
        confidence_before=await _confidence_before(session, involved, start),
    )


def labelled(
    entries: list[GroupEntry], links: list[ConnectedCycle]
) -> tuple[list[GroupEntry], list[ConnectedCycle]]:
    """One set of anonymous labels for the whole digest, connected cycles included."""
    # In place: the entries were collected unlabelled for this digest alone (see `gather`).
    found = relabel([*entries, *(e for link in links for e in link.entries)], in_place=True)
    own, rest = found[: len(entries)], found[len(entries) :]
    out = []
    for link in links:
        out.append(replace(link, entries=rest[: len(link.entries)]))
        rest = rest[len(link.entries) :]
    return own, out


async def _replications(
    session: AsyncSession,
    group: Group,
    experiments: list[Experiment],
    start: datetime,
    end: datetime,
) -> list[Replication]:
    """Experiments this group adopted, and this group's experiments others adopted, that ran
    this week (running, or concluded during it)."""

    def active(e: Experiment) -> bool:
        if e.status == "running":
            return e.started_at < end
        return e.concluded_at is not None and start <= e.concluded_at < end

    ours = {e.id for e in experiments}
    copies = [e for e in experiments if e.adopted_from_id is not None]
    if ours:
        copies += list(
            (
                await session.execute(
                    select(Experiment)
                    .where(Experiment.adopted_from_id.in_(ours), Experiment.group_id != group.id)
                    .order_by(Experiment.id)
                )
            ).scalars()
        )
    out = []
    names: dict[int, str] = {group.id: group.name}
    for copy in copies:
        original = await session.get(Experiment, copy.adopted_from_id)
        if original is None or not (active(copy) or active(original)):
            continue
        for gid in (copy.group_id, original.group_id):
            if gid not in names:
                other = await session.get(Group, gid)
                names[gid] = other.name if other is not None else f"group {gid}"
        out.append(Replication(copy, original, names[copy.group_id], names[original.group_id]))
    return out


async def _confidence(
    session: AsyncSession, experiment_ids: set[int]
) -> dict[int, tuple[float, int]]:
    """Mean confidence of each experiment's shareable check-ins, over its whole life."""
    if not experiment_ids:
        return {}
    rows = await session.execute(
        select(CheckIn.experiment_id, func.avg(CheckIn.confidence), func.count(CheckIn.id))
        .where(CheckIn.experiment_id.in_(experiment_ids), CheckIn.visibility == "group")
        .group_by(CheckIn.experiment_id)
    )
    return {int(eid): (float(avg), int(n)) for eid, avg, n in rows.all()}


async def _confidence_before(
    session: AsyncSession, experiment_ids: set[int], start: datetime
) -> dict[int, float]:
    """Mean confidence of each experiment's shareable check-ins before the week: the level a
    check-in this week is compared with before the digest says it challenges the hypothesis."""
    if not experiment_ids:
        return {}
    rows = await session.execute(
        select(CheckIn.experiment_id, func.avg(CheckIn.confidence))
        .where(
            CheckIn.experiment_id.in_(experiment_ids),
            CheckIn.visibility == "group",
            CheckIn.created_at < start,
        )
        .group_by(CheckIn.experiment_id)
    )
    return {int(eid): float(avg) for eid, avg in rows.all() if avg is not None}


async def _history(session: AsyncSession, group: Group, week: str) -> list[tuple[str, int]]:
    """People taking part (a check-in or an answer, whoever may read it), week by week."""
    weeks = weeks_before(week, HISTORY_WEEKS)
    start = week_bounds(weeks[0], group.timezone)[0]
    end = week_bounds(week, group.timezone)[1]
    checkins = await session.execute(
        select(CheckIn.member_id, CheckIn.created_at)
        .join(Experiment, CheckIn.experiment_id == Experiment.id)
        .where(
            Experiment.group_id == group.id,
            CheckIn.created_at >= start,
            CheckIn.created_at < end,
        )
    )
    responses = await session.execute(
        select(Response.member_id, Response.created_at)
        .join(Round, Response.round_id == Round.id)
        .where(Round.group_id == group.id, Response.created_at >= start, Response.created_at < end)
    )
    people: dict[str, set[int]] = {w: set() for w in weeks}
    for member_id, created in [*checkins.all(), *responses.all()]:
        bucket = people.get(iso_week(created, group.timezone))
        if bucket is not None:
            bucket.add(member_id)
    return [(w, len(people[w])) for w in weeks]


async def _prompts(session: AsyncSession, entries: list[GroupEntry]) -> dict[tuple[int, str], str]:
    """(round id, prompt key) -> the prompt's text, for the answers shown as surprises."""
    round_ids = {e.round_id for e in entries if e.round_id is not None}
    out: dict[tuple[int, str], str] = {}
    for round_id in sorted(round_ids):
        round_ = await session.get(Round, round_id)
        for prompt in round_.prompts if round_ is not None else ():
            out[(round_id, str(prompt.get("key")))] = str(prompt.get("text", ""))
    return out

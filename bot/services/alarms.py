"""Governance alarms around learning cycles: rules with thresholds from `[alarms]` in bot.toml,
evaluated daily and on demand.

At most one open alarm per (group, rule, subject) — a partial unique index enforces it, so a
repeated or concurrent evaluation never duplicates one. An alarm whose condition cleared is
resolved. A person's `resolve` holds until the condition starts anew: every finding carries the
moment its condition began (`since`), and a finding that began before the last resolve stays
quiet. Alarms speak in counts and ids, never in entry text or names."""

from __future__ import annotations

import logging
import zoneinfo
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain import Button, ChannelRef, Message, Platform, Visibility
from bot.errors import NotFound, UserError
from bot.services import members, outbox, scope
from bot.services.context import Deps
from bot.services.scope import Here
from bot.store.models import (
    Alarm,
    CheckIn,
    Cycle,
    Experiment,
    Group,
    Member,
    Response,
    Round,
    RoundRecipient,
)

log = logging.getLogger(__name__)

RAISED, ACKNOWLEDGED, RESOLVED = "raised", "acknowledged", "resolved"
OPEN_STATES = (RAISED, ACKNOWLEDGED)

STALE_CHECKIN = "stale_checkin"
RUNNING_LONG = "running_long"
LOW_PARTICIPATION = "low_participation"
NO_SURPRISE = "no_surprise"
CYCLE_WITHOUT_EXPERIMENT = "cycle_without_experiment"
DOMINANT_VOICE = "dominant_voice"
RULES = (
    STALE_CHECKIN,
    RUNNING_LONG,
    LOW_PARTICIPATION,
    NO_SURPRISE,
    CYCLE_WITHOUT_EXPERIMENT,
    DOMINANT_VOICE,
)
RULE_TITLES = {
    STALE_CHECKIN: "no recent check-in",
    RUNNING_LONG: "running long",
    LOW_PARTICIPATION: "low round participation",
    NO_SURPRISE: "no surprises",
    CYCLE_WITHOUT_EXPERIMENT: "cycle without experiment",
    DOMINANT_VOICE: "one dominant voice",
}

# A closed round counts for this long; its alarm then resolves on its own.
RECENT_ROUNDS = timedelta(days=14)
# Who writes the check-ins is measured over this window.
DOMINANT_WINDOW = timedelta(days=28)


@dataclass(frozen=True)
class Finding:
    rule: str
    subject: str  # "experiment:3", "round:7", "cycle:2", "group:1"
    detail: str
    since: datetime  # when the condition began to hold


# --- rules -------------------------------------------------------------------------------------


async def _stale_and_long(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    limits = settings.alarms
    query = (
        select(Experiment, func.max(CheckIn.created_at))
        .outerjoin(CheckIn, CheckIn.experiment_id == Experiment.id)
        .where(Experiment.group_id == group.id, Experiment.status == "running")
        .group_by(Experiment.id)
        .order_by(Experiment.id)
    )
    out: list[Finding] = []
    stale_after = timedelta(days=limits.stale_checkin_days)
    long_after = timedelta(weeks=limits.running_weeks)
    for experiment, last in (await session.execute(query)).all():
        subject = f"experiment:{experiment.id}"
        name = f"Experiment #{experiment.id} “{experiment.title}”"
        last_sign = _aware(last) if last is not None else experiment.started_at
        if now - last_sign >= stale_after:
            days = (now - last_sign).days
            what = (
                f"has had no check-in since it started {days} days ago"
                if last is None
                else f"has had no check-in for {days} days"
            )
            out.append(Finding(STALE_CHECKIN, subject, f"{name} {what}.", last_sign + stale_after))
        if now - experiment.started_at >= long_after:
            weeks = (now - experiment.started_at).days // 7
            out.append(
                Finding(
                    RUNNING_LONG,
                    subject,
                    f"{name} has been running for {weeks} weeks without a conclusion.",
                    experiment.started_at + long_after,
                )
            )
    return out


async def round_participation(session: AsyncSession, round_ids: Sequence[int]) -> dict[int, Any]:
    """round id -> (people asked, people who answered). Counts only, never who."""
    if not round_ids:
        return {}
    asked = dict(
        (
            await session.execute(
                select(RoundRecipient.round_id, func.count(RoundRecipient.id))
                .where(RoundRecipient.round_id.in_(round_ids))
                .group_by(RoundRecipient.round_id)
            )
        ).all()
    )
    answered = dict(
        (
            await session.execute(
                select(Response.round_id, func.count(func.distinct(Response.member_id)))
                .where(Response.round_id.in_(round_ids))
                .group_by(Response.round_id)
            )
        ).all()
    )
    return {rid: (int(asked.get(rid, 0)), int(answered.get(rid, 0))) for rid in round_ids}


async def _low_participation(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    floor = settings.alarms.min_participation
    rounds = list(
        (
            await session.execute(
                select(Round)
                .where(
                    Round.group_id == group.id,
                    Round.state == "closed",
                    Round.closed_at >= now - RECENT_ROUNDS,
                )
                .order_by(Round.id)
            )
        ).scalars()
    )
    counts = await round_participation(session, [r.id for r in rounds])
    out = []
    for round_ in rounds:
        asked, answered = counts[round_.id]
        if asked == 0 or answered / asked >= floor:
            continue
        out.append(
            Finding(
                LOW_PARTICIPATION,
                f"round:{round_.id}",
                f"Round #{round_.id} “{round_.title}” closed with {answered} of {asked} people "
                f"answering ({answered / asked:.0%}, below {floor:.0%}).",
                round_.closed_at or now,
            )
        )
    return out


async def _no_surprise(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    limits = settings.alarms
    span = timedelta(weeks=limits.surprise_weeks)
    # The group's clock starts with its first experiment or round: a new group has not had the
    # time yet, and a group with nothing going on is not asked for surprises.
    first = [
        (await session.execute(q)).scalar_one_or_none()
        for q in (
            select(func.min(Experiment.started_at)).where(Experiment.group_id == group.id),
            select(func.min(Round.opened_at)).where(Round.group_id == group.id),
        )
    ]
    began = min([_aware(t) for t in first if t is not None], default=None)
    if began is None or now - began < span:
        return []
    # Private entries are the author's alone: they do not count for or against the group.
    checkins = (
        select(func.max(CheckIn.created_at))
        .join(Experiment, CheckIn.experiment_id == Experiment.id)
        .where(
            Experiment.group_id == group.id,
            CheckIn.visibility != Visibility.PRIVATE.value,
            CheckIn.surprise >= limits.surprise_threshold,
        )
    )
    responses = (
        select(func.max(Response.created_at))
        .join(Round, Response.round_id == Round.id)
        .where(
            Round.group_id == group.id,
            Response.visibility != Visibility.PRIVATE.value,
            Response.surprise >= limits.surprise_threshold,
        )
    )
    times = [(await session.execute(q)).scalar_one_or_none() for q in (checkins, responses)]
    latest = max([began, *(_aware(t) for t in times if t is not None)])
    if now - latest < span:
        return []
    return [
        Finding(
            NO_SURPRISE,
            f"group:{group.id}",
            f"No entry in the last {limits.surprise_weeks} weeks was marked surprising "
            f"({limits.surprise_threshold} or more): are we only confirming what we knew?",
            latest + span,
        )
    ]


async def _cycles_without_experiments(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    # A new cycle gets the same grace as a new experiment before it is called empty.
    grace = timedelta(days=settings.alarms.stale_checkin_days)
    everything = (await session.execute(select(Cycle.id, Cycle.parent_id))).all()
    children: dict[int, list[int]] = {}
    for cid, parent in everything:
        if parent is not None:
            children.setdefault(parent, []).append(cid)
    with_experiments = set(
        (
            await session.execute(
                select(Experiment.cycle_id).where(Experiment.cycle_id.is_not(None)).distinct()
            )
        ).scalars()
    )
    own = (
        await session.execute(select(Cycle).where(Cycle.group_id == group.id).order_by(Cycle.id))
    ).scalars()
    out = []
    for cycle in own:
        if now - cycle.created_at < grace:
            continue
        tree, stack = {cycle.id}, [cycle.id]
        while stack:  # experiments in a child cycle count for the parent
            for child in children.get(stack.pop(), []):
                if child not in tree:
                    tree.add(child)
                    stack.append(child)
        if tree & with_experiments:
            continue
        out.append(
            Finding(
                CYCLE_WITHOUT_EXPERIMENT,
                f"cycle:{cycle.id}",
                f"Cycle #{cycle.id} “{cycle.name}” has no experiment yet: what could we try?",
                cycle.created_at + grace,
            )
        )
    return out


async def _dominant_voice(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    limits = settings.alarms
    start = now - DOMINANT_WINDOW
    rows = (
        await session.execute(
            select(CheckIn.member_id, func.count(CheckIn.id))
            .join(Experiment, CheckIn.experiment_id == Experiment.id)
            .where(Experiment.group_id == group.id, CheckIn.created_at >= start)
            .group_by(CheckIn.member_id)
        )
    ).all()
    counts = Counter({int(member): int(n) for member, n in rows})
    total = sum(counts.values())
    if total < limits.dominant_min_checkins:
        return []
    top = max(counts.values())
    if top / total <= limits.dominant_share:
        return []
    weeks = DOMINANT_WINDOW.days // 7
    return [
        Finding(
            DOMINANT_VOICE,
            f"group:{group.id}",
            f"One person wrote {top} of the {total} check-ins in the last {weeks} weeks "
            f"({top / total:.0%}, above {limits.dominant_share:.0%}): whose voice is missing?",
            start,
        )
    ]


RULE_FUNCTIONS = (
    _stale_and_long,
    _low_participation,
    _no_surprise,
    _cycles_without_experiments,
    _dominant_voice,
)


async def findings(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Finding]:
    """Every rule's current findings for the group."""
    out: list[Finding] = []
    for rule in RULE_FUNCTIONS:
        out.extend(await rule(session, settings, group, now))
    return out


# --- evaluation --------------------------------------------------------------------------------


async def _insert_open(session: AsyncSession, values: dict[str, Any]) -> int | None:
    """Insert an open alarm unless one is open for the same (group, rule, subject)."""
    table: Any = Alarm.__table__
    where = text("state != 'resolved'")
    keys = ["group_id", "rule", "subject"]
    stmt: Any
    if session.get_bind().dialect.name == "postgresql":
        stmt = postgresql.insert(table).values(**values)
    else:
        stmt = sqlite.insert(table).values(**values)
    stmt = stmt.on_conflict_do_nothing(index_elements=keys, index_where=where)
    row = (await session.execute(stmt.returning(table.c.id))).first()
    return None if row is None else int(row[0])


async def evaluate_group(
    session: AsyncSession, settings: Settings, group: Group, now: datetime
) -> list[Alarm]:
    """Raise what fires, resolve what cleared, queue DMs for what is new. Returns the new ones."""
    found = {(f.rule, f.subject): f for f in await findings(session, settings, group, now)}
    open_rows = await open_alarms(session, group.id)
    for alarm in open_rows:
        finding = found.get((alarm.rule, alarm.subject))
        if finding is None:
            alarm.state, alarm.resolved_at = RESOLVED, now
        elif alarm.detail != finding.detail:
            alarm.detail = finding.detail
    await session.flush()
    already = {(a.rule, a.subject) for a in open_rows}
    raised: list[Alarm] = []
    for key, finding in found.items():
        if key in already or await _resolved_since(session, group.id, finding):
            continue
        alarm_id = await _insert_open(
            session,
            {
                "group_id": group.id,
                "rule": finding.rule,
                "subject": finding.subject,
                "detail": finding.detail,
                "state": RAISED,
                "raised_at": now,
            },
        )
        if alarm_id is not None:
            new = await session.get(Alarm, alarm_id)
            assert new is not None
            raised.append(new)
    if raised:
        await notify_facilitators(session, settings, group, raised)
    return raised


async def _resolved_since(session: AsyncSession, group_id: int, finding: Finding) -> bool:
    """True when someone (or the bot) resolved this alarm after its condition began."""
    last = (
        await session.execute(
            select(func.max(Alarm.resolved_at)).where(
                Alarm.group_id == group_id,
                Alarm.rule == finding.rule,
                Alarm.subject == finding.subject,
                Alarm.state == RESOLVED,
            )
        )
    ).scalar_one_or_none()
    return last is not None and _aware(last) >= finding.since


async def evaluate(deps: Deps, group_id: int) -> list[Alarm]:
    """Evaluate one group now (scheduler and `alarms`); returns the newly raised alarms."""
    async with deps.db.begin() as session:
        group = await session.get(Group, group_id)
        if group is None:
            return []
        raised = await evaluate_group(session, deps.settings, group, deps.clock())
    if raised:
        deps.notify_outbox()
    return raised


async def evaluate_all(deps: Deps) -> list[Alarm]:
    """The daily pass: every group in its own transaction, so one failure stops no other."""
    async with deps.db.begin() as session:
        group_ids = list((await session.execute(select(Group.id).order_by(Group.id))).scalars())
    raised: list[Alarm] = []
    for group_id in group_ids:
        try:
            raised.extend(await evaluate(deps, group_id))
        except Exception:
            log.exception("alarm evaluation failed for group %s", group_id)
    return raised


# --- facilitators ------------------------------------------------------------------------------


async def facilitators(session: AsyncSession, settings: Settings, group: Group) -> list[Member]:
    """Who hears about alarms: facilitators and admins of the group's workspaces, and the
    configured facilitator ids."""
    return await members.holding_role(
        session, group, ("facilitator", "admin"), settings.bot.facilitators
    )


def dm_to(member: Member) -> ChannelRef:
    ws = member.workspace
    return ChannelRef(Platform(ws.platform), ws.external_id, member.user_id, member.user_id)


async def notify_facilitators(
    session: AsyncSession, settings: Settings, group: Group, alarms: Sequence[Alarm]
) -> int:
    """One DM per (alarm, facilitator), through the outbox. Returns how many were queued."""
    people = await facilitators(session, settings, group)
    queued = 0
    for alarm in alarms:
        message = Message(
            f"Alarm #{alarm.id} in {group.name} ({RULE_TITLES.get(alarm.rule, alarm.rule)}): "
            f"{alarm.detail}",
            buttons=(
                Button("Acknowledge", f"alarms ack {alarm.id}", "primary"),
                Button("Resolve", f"alarms resolve {alarm.id}"),
            ),
        )
        for member in people:
            key = f"alarm:{alarm.id}:{member.id}"
            if await outbox.enqueue(
                session, key=key, to=dm_to(member), message=message, member_id=member.id
            ):
                queued += 1
    return queued


# --- reading and acting ------------------------------------------------------------------------


async def open_alarms(session: AsyncSession, group_id: int) -> list[Alarm]:
    query = (
        select(Alarm)
        .where(Alarm.group_id == group_id, Alarm.state.in_(OPEN_STATES))
        .order_by(Alarm.id)
    )
    return list((await session.execute(query)).scalars())


async def alarms_for_digest(
    session: AsyncSession, group_id: int, start: datetime, end: datetime
) -> list[Alarm]:
    """Open alarms, and those raised in [start, end) even if resolved since."""
    query = (
        select(Alarm)
        .where(
            Alarm.group_id == group_id,
            or_(
                Alarm.state.in_(OPEN_STATES),
                (Alarm.raised_at >= start) & (Alarm.raised_at < end),
            ),
            Alarm.raised_at < end,
        )
        .order_by(Alarm.id)
    )
    return list((await session.execute(query)).scalars())


async def get_alarm(session: AsyncSession, alarm_id: int, where: Here) -> Alarm:
    """An alarm by the id someone typed: in a channel, one of its group's; in a DM (where the
    alarm's buttons arrive), one of a group with a channel in the same workspace."""
    alarm = await session.get(Alarm, alarm_id)
    if alarm is not None and (
        where.in_group(alarm.group_id)
        or (where.is_dm and await scope.group_in_workspace(session, alarm.group_id, where))
    ):
        return alarm
    raise NotFound(f"There is no alarm #{alarm_id} here. `alarms` lists the open ones.")


async def acknowledge(
    session: AsyncSession, alarm_id: int, member_id: int, now: datetime, where: Here
) -> Alarm:
    alarm = await get_alarm(session, alarm_id, where)
    if alarm.state == RESOLVED:
        raise UserError(f"Alarm #{alarm_id} is already resolved.")
    if alarm.state == RAISED:
        alarm.state, alarm.acked_by, alarm.acked_at = ACKNOWLEDGED, member_id, now
    return alarm


async def resolve(
    session: AsyncSession, alarm_id: int, member_id: int, now: datetime, where: Here
) -> Alarm:
    alarm = await get_alarm(session, alarm_id, where)
    if alarm.state == RESOLVED:
        raise UserError(f"Alarm #{alarm_id} is already resolved.")
    if alarm.acked_by is None:
        alarm.acked_by, alarm.acked_at = member_id, now
    alarm.state, alarm.resolved_at = RESOLVED, now
    return alarm


def describe(alarm: Alarm, timezone: str) -> str:
    """One line for lists and digests: id, rule, detail, state and date."""
    when = alarm.raised_at.astimezone(zoneinfo.ZoneInfo(timezone)).strftime("%Y-%m-%d")
    rule = RULE_TITLES.get(alarm.rule, alarm.rule)
    state = f"raised {when}" if alarm.state == RAISED else f"{alarm.state}; raised {when}"
    return f"#{alarm.id} {rule}: {alarm.detail} ({state})"


def _aware(value: datetime) -> datetime:
    """Aggregates (max) may come back naive on SQLite: every stored time is UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)

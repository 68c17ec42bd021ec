"""Participatory experiments: started, checked in on over time, concluded, adopted elsewhere."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, bindparam, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Role
from bot.errors import NotFound, PermissionDenied, UserError
from bot.services import cycles, privacy
from bot.services.scope import Here
from bot.store.models import CheckIn, Cycle, Experiment, Group, Member

RUNNING = "running"
CONCLUDED = "concluded"
VERDICTS = ("weaker", "unchanged", "stronger")
# How far `adopt` follows a chain of adoptions looking for this group's own original.
_MAX_CHAIN = 50


@dataclass(frozen=True)
class ExperimentRow:
    """An experiment with what a list shows beside it."""

    experiment: Experiment
    owner_name: str | None
    cycle_name: str | None
    group_name: str
    checkins: int  # the check-ins the viewer may see


async def get_experiment(session: AsyncSession, experiment_id: int) -> Experiment:
    experiment = await session.get(Experiment, experiment_id)
    if experiment is None:
        raise NotFound(f"There is no experiment #{experiment_id}. `experiment list` shows the ids.")
    return experiment


async def find_experiment(session: AsyncSession, experiment_id: int, where: Here) -> Experiment:
    """An experiment by the id someone typed: in a channel, one of its group's; in a DM, one
    they own or checked in on. Anything else is reported like a missing id."""
    params = {"experiment": experiment_id, "group": where.group_id, "member": where.member_id}
    query = select(Experiment).where(_here(where.is_dm))
    experiment = (await session.execute(query, params)).scalar_one_or_none()
    if experiment is None:  # a channel with no group has none here: group_id = NULL holds for none
        raise NotFound(
            f"There is no experiment #{experiment_id} here. `experiment list` shows the ids."
        )
    return experiment


def _here(in_dm: bool) -> ColumnElement[bool]:
    """The experiment bound as `experiment`, if it is here: in a group's channel (`group`
    bound), one of its group's; in a DM, one the member bound as `member` owns or checked in
    on. The one rule for both `find_experiment` and `running_here`."""
    chosen = Experiment.id == bindparam("experiment")
    if not in_dm:
        return and_(chosen, Experiment.group_id == bindparam("group"))
    took_part = (
        select(CheckIn.id)
        .where(CheckIn.experiment_id == Experiment.id, CheckIn.member_id == bindparam("member"))
        .exists()
    )
    return and_(chosen, or_(Experiment.owner_id == bindparam("member"), took_part))


def running_here(in_dm: bool) -> ColumnElement[bool]:
    """`_here`, and running: for statements built once (a check-in's insert)."""
    return and_(_here(in_dm), Experiment.status == RUNNING)


def require_running(experiment: Experiment) -> None:
    if experiment.status != RUNNING:
        raise UserError(
            f"Experiment #{experiment.id} is {experiment.status}; only running experiments "
            "take check-ins. `experiment list` shows the running ones."
        )


def may_manage(experiment: Experiment, member_id: int, role: Role) -> bool:
    """The owner and facilitators may conclude an experiment."""
    return experiment.owner_id == member_id or role >= Role.FACILITATOR


async def create_experiment(
    session: AsyncSession,
    group: Group,
    *,
    title: str,
    hypothesis: str,
    try_: str,
    expect: str,
    cycle_id: int | None,
    owner_id: int | None,
    now: datetime,
) -> Experiment:
    if cycle_id is not None:
        await cycles.get_cycle(session, cycle_id)  # a cycle of any group: cycles connect
    experiment = Experiment(
        group_id=group.id,
        cycle_id=cycle_id,
        owner_id=owner_id,
        title=title,
        hypothesis=hypothesis,
        try_=try_,
        expect=expect,
        status=RUNNING,
        started_at=now,
    )
    session.add(experiment)
    await session.flush()
    return experiment


async def _rows(
    session: AsyncSession, where: list[object], viewer_id: int, viewer_role: Role
) -> list[ExperimentRow]:
    count = (
        select(func.count(CheckIn.id))
        .where(
            CheckIn.experiment_id == Experiment.id,
            privacy.visible_clause(CheckIn.visibility, CheckIn.member_id, viewer_id, viewer_role),
        )
        .correlate(Experiment)
        .scalar_subquery()
    )
    query = (
        select(Experiment, Member.display_name, Cycle.name, Group.name, count)
        .join(Group, Experiment.group_id == Group.id)
        .outerjoin(Member, Experiment.owner_id == Member.id)
        .outerjoin(Cycle, Experiment.cycle_id == Cycle.id)
        .where(*where)  # type: ignore[arg-type]
        .order_by(Experiment.status.desc(), Experiment.id)  # running before concluded
    )
    return [
        ExperimentRow(exp, owner, cycle, group, int(n))
        for exp, owner, cycle, group, n in (await session.execute(query)).all()
    ]


async def list_group(
    session: AsyncSession, group_id: int, *, viewer_id: int, viewer_role: Role
) -> list[ExperimentRow]:
    """The group's experiments, running first."""
    return await _rows(session, [Experiment.group_id == group_id], viewer_id, viewer_role)


async def list_owned(
    session: AsyncSession, member_id: int, *, viewer_role: Role
) -> list[ExperimentRow]:
    """A member's own experiments across every group."""
    return await _rows(session, [Experiment.owner_id == member_id], member_id, viewer_role)


async def detail(session: AsyncSession, experiment_id: int) -> ExperimentRow:
    """One experiment with its owner, cycle and group names (check-ins are counted separately)."""
    experiment = await get_experiment(session, experiment_id)
    group = await session.get(Group, experiment.group_id)
    owner = await session.get(Member, experiment.owner_id) if experiment.owner_id else None
    cycle = await session.get(Cycle, experiment.cycle_id) if experiment.cycle_id else None
    return ExperimentRow(
        experiment,
        owner.display_name if owner else None,
        cycle.name if cycle else None,
        group.name if group else "",
        0,
    )


async def running_choices(
    session: AsyncSession, group_id: int | None, member_id: int
) -> tuple[list[Experiment], list[Experiment]]:
    """Running experiments a member could check in on: (theirs, all offered).

    `theirs` are the ones they own or already checked in on. In a group, everything running
    there is offered; outside one (a DM), only theirs."""
    involved = or_(
        Experiment.owner_id == member_id,
        Experiment.id.in_(select(CheckIn.experiment_id).where(CheckIn.member_id == member_id)),
    )
    base = select(Experiment).where(Experiment.status == RUNNING).order_by(Experiment.id)
    if group_id is not None:
        base = base.where(Experiment.group_id == group_id)
    theirs = list((await session.execute(base.where(involved))).scalars())
    offered = theirs if group_id is None else list((await session.execute(base)).scalars())
    return theirs, offered


async def conclude(
    session: AsyncSession,
    experiment_id: int,
    *,
    member_id: int,
    role: Role,
    learned: str,
    verdict: str,
    now: datetime,
) -> Experiment:
    experiment = await get_experiment(session, experiment_id)
    check_may_conclude(experiment, member_id, role)
    if verdict not in VERDICTS:
        raise UserError(f"verdict must be one of: {', '.join(VERDICTS)}.")
    experiment.status = CONCLUDED
    experiment.concluded_at = now
    experiment.learned = learned
    experiment.verdict = verdict
    await session.flush()
    return experiment


def check_may_conclude(experiment: Experiment, member_id: int, role: Role) -> None:
    """Refuse early, before a form is shown to someone who cannot submit it."""
    if not may_manage(experiment, member_id, role):
        raise PermissionDenied(
            f"Only the owner of experiment #{experiment.id} or a facilitator can conclude it."
        )
    if experiment.status == CONCLUDED:
        when = experiment.concluded_at.date().isoformat() if experiment.concluded_at else "earlier"
        raise UserError(
            f"Experiment #{experiment.id} was already concluded ({when}, hypothesis "
            f"{experiment.verdict}). `experiment show {experiment.id}` has what was learned."
        )


async def adopt(
    session: AsyncSession, experiment_id: int, group: Group, *, member_id: int, now: datetime
) -> tuple[Experiment, Experiment]:
    """Copy another group's experiment into `group`, linked to it. Returns (original, copy)."""
    original = await get_experiment(session, experiment_id)
    if original.group_id == group.id:
        raise UserError(
            f"Experiment #{original.id} already belongs to this group; "
            "adopt experiments from other groups."
        )
    # This group may already run it: as a copy of the same experiment, or as the original of
    # which `original` is itself a copy.
    lineage = [original.id]
    cursor = original
    for _ in range(_MAX_CHAIN):
        if cursor.adopted_from_id is None:
            break
        parent = await session.get(Experiment, cursor.adopted_from_id)
        if parent is None:
            break
        if parent.group_id == group.id:
            raise UserError(
                f"Experiment #{original.id} was adopted from this group's own #{parent.id}."
            )
        lineage.append(parent.id)
        cursor = parent
    existing = (
        await session.execute(
            select(Experiment.id).where(
                Experiment.group_id == group.id, Experiment.adopted_from_id.in_(lineage)
            )
        )
    ).scalar()
    if existing is not None:
        raise UserError(
            f"This group already adopted experiment #{original.id}: it runs here as #{existing}."
        )
    copy = Experiment(
        group_id=group.id,
        cycle_id=None,
        owner_id=member_id,
        adopted_from_id=original.id,
        title=original.title,
        hypothesis=original.hypothesis,
        try_=original.try_,
        expect=original.expect,
        status=RUNNING,
        started_at=now,
    )
    session.add(copy)
    await session.flush()
    return original, copy

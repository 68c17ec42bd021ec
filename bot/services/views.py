"""Read models for adapters (see bot/ports.py): small queries that return plain values.

Everything shown is either the person's own or already posted to their group; autocomplete
offers titles only, never entries."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import case, func, select, union

from bot.domain import ChannelRef, Message, Platform
from bot.domain.views import (
    Home,
    Lookup,
    LookupKind,
    OpenPrompt,
    OwnExperiment,
    PostedDigest,
    SentMessage,
)
from bot.services import rounds, templates
from bot.services.groups import group_for_channel
from bot.store.database import Database
from bot.store.models import (
    Cycle,
    Delivery,
    Digest,
    Experiment,
    Group,
    Member,
    Response,
    Round,
    RoundRecipient,
    Workspace,
)

MAX_ROUNDS = 10
MAX_EXPERIMENTS = 15
MAX_DIGESTS = 3
MAX_LOOKUPS = 500
MAX_ROUND_LOOKUPS = 200


async def home_for(db: Database, platform: Platform, workspace: str, user_id: str) -> Home:
    """A member's open prompts, own experiments and the latest posted digest of each group
    they take part in."""
    async with db.begin() as session:
        member = (
            await session.execute(
                select(Member)
                .join(Workspace, Workspace.id == Member.workspace_id)
                .where(
                    Workspace.platform == str(platform),
                    Workspace.external_id == workspace,
                    Member.user_id == user_id,
                )
            )
        ).scalar_one_or_none()
        if member is None:
            return Home()
        prompts: list[OpenPrompt] = []
        for round_ in (await rounds.recipient_rounds(session, member.id))[:MAX_ROUNDS]:
            answered = await session.scalar(
                select(func.count()).where(
                    Response.round_id == round_.id, Response.member_id == member.id
                )
            )
            done = int(answered or 0)
            prompts.append(
                OpenPrompt(
                    round_.id,
                    round_.title,
                    done,
                    len(round_.prompts),
                    rounds.format_time(round_.closes_at, member.timezone or "UTC"),
                    rounds.answer_button(round_.id, edit=done > 0),
                )
            )
        own = (
            select(Experiment)
            .where(Experiment.owner_id == member.id)
            .order_by(Experiment.status != "running", Experiment.started_at.desc())
            .limit(MAX_EXPERIMENTS)
        )
        experiments = tuple(
            OwnExperiment(e.id, e.title, e.status) for e in (await session.execute(own)).scalars()
        )
        mine = union(
            select(Round.group_id)
            .join(RoundRecipient, RoundRecipient.round_id == Round.id)
            .where(RoundRecipient.member_id == member.id),
            select(Experiment.group_id).where(Experiment.owner_id == member.id),
        ).subquery()
        latest = (
            select(Digest.group_id, func.max(Digest.id).label("id"))
            .where(Digest.group_id.in_(select(mine.c[0])), Digest.variant == "group")
            .where(Digest.state == "posted")
            .group_by(Digest.group_id)
            .subquery()
        )
        posted = (
            select(Digest, Group.name)
            .join(latest, latest.c.id == Digest.id)
            .join(Group, Group.id == Digest.group_id)
            .order_by(Digest.id.desc())
            .limit(MAX_DIGESTS)
        )
        digests = tuple(
            PostedDigest(name, d.week, d.text) for d, name in (await session.execute(posted)).all()
        )
    return Home(tuple(prompts), experiments, digests)


async def template_keys(
    db: Database, channel: ChannelRef, shipped: Mapping[str, object]
) -> list[str]:
    """The round templates a round started in `channel` can use: the shipped ones and its
    group's own (`round template new`), sorted."""
    async with db.begin() as session:
        group = None if channel.is_dm else await group_for_channel(session, channel)
        own = await templates.own_templates(session, group.id) if group is not None else {}
    return sorted(set(shipped) | set(own))


async def lookups(db: Database, kind: LookupKind, channel: ChannelRef) -> list[Lookup]:
    """Experiments, cycles or rounds to offer for an id: the channel's own group first (rounds:
    only its own), then the rest, newest first."""
    async with db.begin() as session:
        group = None if channel.is_dm else await group_for_channel(session, channel)
        group_id = group.id if group is not None else None
        if kind == "experiment":
            query = (
                select(Experiment.id, Experiment.title, Experiment.status)
                .order_by(
                    case((Experiment.group_id == group_id, 0), else_=1),
                    case((Experiment.status == "running", 0), else_=1),
                    Experiment.id.desc(),
                )
                .limit(MAX_LOOKUPS)
            )
        elif kind == "cycle":
            query = (
                select(Cycle.id, Cycle.name, Cycle.scale)
                .order_by(case((Cycle.group_id == group_id, 0), else_=1), Cycle.id.desc())
                .limit(MAX_LOOKUPS)
            )
        else:
            if group_id is None:
                return []
            query = (
                select(Round.id, Round.title, Round.state)
                .where(Round.group_id == group_id)
                .order_by(Round.id.desc())
                .limit(MAX_ROUND_LOOKUPS)
            )
        rows = (await session.execute(query)).all()
    return [Lookup(int(ident), str(title), str(note)) for ident, title, note in rows]


async def sent_message(db: Database, platform: Platform, message_id: str) -> SentMessage | None:
    """The delivery posted as `message_id` on `platform`: a round prompt's before any other."""
    query = (
        select(Delivery.round_id, Delivery.target_kind, Delivery.payload)
        .where(Delivery.platform == str(platform), Delivery.platform_message_id == message_id)
        .order_by(Delivery.round_id.is_(None), Delivery.id)
        .limit(1)
    )
    async with db.begin() as session:
        row = (await session.execute(query)).first()
    if row is None:
        return None
    round_id, target_kind, payload = row
    return SentMessage(
        int(round_id) if round_id is not None else None,
        target_kind == "dm",
        Message.from_json(payload),
    )

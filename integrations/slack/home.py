"""The App Home tab: my open prompts, my experiments, the latest digest of my groups.

Read straight from the database with a few small queries; everything shown is either the
person's own or already posted to their group."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Button, Platform
from bot.domain.plural import plural
from bot.services import rounds
from bot.store.models import (
    Digest,
    Experiment,
    Group,
    Member,
    Response,
    Round,
    RoundRecipient,
    Workspace,
)
from integrations.slack.render import (
    MAX_SECTION,
    MAX_VIEW_BLOCKS,
    Block,
    button_element,
    clip,
    mrkdwn,
    plain,
)

MAX_ROUNDS = 10
MAX_EXPERIMENTS = 15
MAX_DIGESTS = 3
EMPTY = "Nothing here yet. Type `/cycles help` in a channel to see what the bot does."


def _section(text: str, button: Button | None = None, index: int = 0) -> Block:
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(mrkdwn(text), MAX_SECTION) or " "},
    }
    if button is not None:
        block["accessory"] = button_element(button, index)
    return block


def _heading(text: str) -> Block:
    return {"type": "header", "text": plain(text, 150)}


async def _member(session: AsyncSession, team_id: str, user_id: str) -> Member | None:
    query = (
        select(Member)
        .join(Workspace, Workspace.id == Member.workspace_id)
        .where(
            Workspace.platform == str(Platform.SLACK),
            Workspace.external_id == team_id,
            Member.user_id == user_id,
        )
    )
    return (await session.execute(query)).scalar_one_or_none()


async def _prompt_blocks(session: AsyncSession, member: Member) -> list[Block]:
    blocks: list[Block] = []
    open_rounds = (await rounds.recipient_rounds(session, member.id))[:MAX_ROUNDS]
    for index, round_ in enumerate(open_rounds):
        answered = await session.scalar(
            select(func.count()).where(
                Response.round_id == round_.id, Response.member_id == member.id
            )
        )
        done = int(answered or 0)
        closes = rounds.format_time(round_.closes_at, member.timezone or "UTC")
        text = (
            f"*{round_.title}* (round #{round_.id}): you answered {done} of "
            f"{plural(len(round_.prompts), 'question')}; open until {closes}."
        )
        blocks.append(_section(text, rounds.answer_button(round_.id, edit=done > 0), index))
    return blocks


async def _experiment_blocks(session: AsyncSession, member: Member, offset: int) -> list[Block]:
    query = (
        select(Experiment)
        .where(Experiment.owner_id == member.id)
        .order_by(Experiment.status != "running", Experiment.started_at.desc())
        .limit(MAX_EXPERIMENTS)
    )
    blocks: list[Block] = []
    for index, experiment in enumerate((await session.execute(query)).scalars()):
        text = f"#{experiment.id} *{experiment.title}* ({experiment.status})"
        button = (
            Button("Check in", f"checkin {experiment.id}")
            if experiment.status == "running"
            else None
        )
        blocks.append(_section(text, button, offset + index))
    return blocks


async def _digest_blocks(session: AsyncSession, member: Member) -> list[Block]:
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
    query = (
        select(Digest, Group.name)
        .join(latest, latest.c.id == Digest.id)
        .join(Group, Group.id == Digest.group_id)
        .order_by(Digest.id.desc())
        .limit(MAX_DIGESTS)
    )
    blocks: list[Block] = []
    for digest, group_name in (await session.execute(query)).all():
        blocks.append(_section(f"*{group_name}*, week {digest.week}\n{digest.text}"))
    return blocks


async def home_view(session: AsyncSession, team_id: str, user_id: str) -> dict[str, Any]:
    blocks: list[Block] = [_heading("Learning Cycles")]
    member = await _member(session, team_id, user_id)
    prompts = await _prompt_blocks(session, member) if member else []
    experiments = await _experiment_blocks(session, member, len(prompts)) if member else []
    digests = await _digest_blocks(session, member) if member else []
    if not (prompts or experiments or digests):
        blocks.append(_section(EMPTY))
    for title, part in (
        ("Your open prompts", prompts),
        ("Your experiments", experiments),
        ("Latest digest of your groups", digests),
    ):
        if part:
            blocks.extend([{"type": "divider"}, _heading(title), *part])
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}

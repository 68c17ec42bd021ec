"""Answering a round: saving and editing a member's answers, and the reply typed in the round's
DM thread that answers the first open question."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Actor, Reply, Visibility
from bot.domain.checks import check_text
from bot.errors import UserError
from bot.services import members
from bot.services.context import Deps
from bot.services.rounds.messages import answer_button, sharing_phrase
from bot.services.rounds.queries import (
    OPEN,
    get_round,
    is_recipient,
    member_answers,
    prompts_of,
)
from bot.services.rounds.questions import questions_of, read_answer
from bot.services.rounds.times import format_time, tz_of
from bot.store.models import Group, Response, Round
from bot.store.upsert import upsert

ANSWER_LIMIT = 4000
# What a later save may change in an answer row; the natural key stays.
_CHANGES = ("text", "surprise", "visibility", "named", "updated_at")


@dataclass(frozen=True)
class Saved:
    created: int
    updated: int
    removed: int


def check_open(round_: Round, now: datetime, timezone: str) -> None:
    if round_.state != OPEN or now >= round_.closes_at:
        when = format_time(round_.closed_at or round_.closes_at, timezone)
        raise UserError(
            f"Round #{round_.id} closed on {when}; answers can no longer be added or changed."
        )


async def require_recipient(session: AsyncSession, round_: Round, member_id: int) -> None:
    if not await is_recipient(session, round_.id, member_id):
        raise UserError(
            f"Round #{round_.id} was not sent to you, so you cannot answer it. "
            "Rounds go to the members of the channel when they start."
        )


def first_unanswered(round_: Round, answered: Mapping[str, object]) -> dict[str, str] | None:
    for prompt in prompts_of(round_):
        if prompt["key"] not in answered:
            return prompt
    return None


async def save_answers(
    session: AsyncSession,
    round_: Round,
    member_id: int,
    answers: Mapping[str, str],
    *,
    surprise: int | None,
    visibility: Visibility,
    named: bool,
    now: datetime,
) -> Saved:
    """Store answers by prompt key (an empty text removes that answer). One row per
    (round, member, prompt) whatever the races; the sharing choice applies to all of them."""
    kinds = {q.key: q.kind for q in questions_of(round_)}
    keys = set(kinds)
    unknown = sorted(set(answers) - keys)
    if unknown:
        raise UserError(f"Round #{round_.id} has no question '{unknown[0]}'.")
    existing = await member_answers(session, round_.id, member_id)
    created = updated = removed = 0
    for key, text in answers.items():
        if not text:
            if key in existing:
                await session.delete(existing.pop(key))
                removed += 1
            continue
        await upsert(
            session,
            Response,
            {
                "round_id": round_.id,
                "member_id": member_id,
                "prompt_key": key,
                "kind": kinds[key],
                "text": text,
                "surprise": surprise,
                "visibility": str(visibility),
                "named": named,
                "created_at": now,
                "updated_at": now,
            },
            ["round_id", "member_id", "prompt_key"],
            _CHANGES,
        )
        if key in existing:
            updated += 1
        else:
            created += 1
    # Answers not touched this time follow the newest sharing choice too.
    untouched = [r.id for k, r in existing.items() if k not in answers]
    if untouched:
        await session.execute(
            update(Response)
            .where(Response.id.in_(untouched))
            .values(surprise=surprise, visibility=str(visibility), named=named)
            .execution_options(synchronize_session=False)
        )
    await session.flush()
    return Saved(created, updated, removed)


async def answer_from_reply(deps: Deps, actor: Actor, round_id: int, text: str) -> Reply:
    """A reply typed in the round's DM thread: the answer to the first unanswered question.
    A whole use case with its own transaction, as a command handler has."""
    try:
        answer = check_text("answer", text, max_length=ANSWER_LIMIT)
        now = deps.clock()
        async with deps.db.begin() as session:
            member = await members.ensure_member(session, actor)
            round_ = await get_round(session, round_id, lock=True)
            group = await session.get_one(Group, round_.group_id)
            timezone = tz_of(member, group)
            await require_recipient(session, round_, member.id)
            check_open(round_, now, timezone)
            existing = await member_answers(session, round_id, member.id)
            prompt = first_unanswered(round_, existing)
            if prompt is None:
                raise UserError(
                    f"You have answered every question of round #{round_id}. "
                    "Use Edit answers to change one."
                )
            question = next(q for q in questions_of(round_) if q.key == prompt["key"])
            # Keep the sharing choice the member already made in this round, if any.
            previous = next(iter(existing.values()), None)
            visibility = Visibility(previous.visibility) if previous else Visibility.GROUP
            named = previous.named if previous else False
            await save_answers(
                session,
                round_,
                member.id,
                {prompt["key"]: read_answer(question, answer)},
                surprise=previous.surprise if previous else None,
                visibility=visibility,
                named=named,
                now=now,
            )
            left = first_unanswered(round_, {**existing, prompt["key"]: True})
    except UserError as exc:
        return Reply.text(str(exc))
    shared = sharing_phrase(visibility, named)
    tail = f" Next question: {left['text']}" if left else " That was the last question."
    return Reply.text(
        f"Saved as your answer to “{prompt['text']}” ({shared}). Editable until "
        f"{format_time(round_.closes_at, timezone)}.{tail}",
        buttons=(answer_button(round_id, edit=True),),
    )

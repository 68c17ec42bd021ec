"""Who sees what, and every member's right to take their data out or have it removed.

The visibility rules live here once: commands, digests and summaries all ask `can_see` (or use
`visible_clause` in a query) instead of deciding for themselves."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from bot.domain import Role, Visibility
from bot.domain.keys import dm_channel_key
from bot.errors import NotFound
from bot.services import erasure
from bot.services.digests import responses as digest_answers
from bot.store.models import (
    AppState,
    CheckIn,
    Cycle,
    Delivery,
    Digest,
    Experiment,
    Group,
    Member,
    Response,
    Round,
    RoundRecipient,
)

# The only visibility a digest, a summariser or a channel post may ever use.
SHAREABLE: tuple[str, ...] = (Visibility.GROUP.value,)
VISIBILITIES: tuple[str, ...] = tuple(v.value for v in Visibility)
ANONYMOUS = "a member"

PRIVACY_TEXT = """\
*Your privacy in Learning Cycles*
Every check-in and every answer has a visibility you choose:
• *group*: the members of the learning group can read it, and it may be quoted in the group's \
digests and round summaries.
• *facilitators*: only the group's facilitators (and you) can read it. It never reaches a digest, \
a summary or another member.
• *private*: only you can read it. Nobody else, facilitators included, ever sees it.
Quotes are anonymous by default. `experiment show` says "a member". A digest or a round summary \
labels anonymous quotes "Member A", "Member B", …: one person's quotes share a label within \
that one digest or summary, the letters are drawn afresh each time, and a label never carries \
over to another digest, summary or week. If you are named on any entry in a digest, your \
anonymous quotes there each get a label of their own, so they cannot be tied to your name. Your \
name appears only on entries where you chose named=yes, and you can change that with \
`checkin edit <id>`.
Digests never list who did not answer; only facilitators can see who has not answered a round \
yet.
Your data is yours:
• `export` gives you everything the bot holds about you as a JSON file: your profile, check-ins, \
round answers and answers to digest themes, the experiments you own and the cycles you created. \
The bot deletes its copy of the file within an hour.
• `forget-me` deletes your check-ins, your answers (to rounds and digests), the messages queued \
for you, your export \
files, the experiments you own that nobody else checked in on, and your profile, and takes your \
words and name out of the digests and round summaries the bot keeps (`digest show` no longer \
shows them) and out of messages still waiting to be sent. Experiments others checked in on stay \
for the group, without your name. Messages already posted in chat cannot be recalled: they stay \
in the channel's history.
The bot's logs never hold what you wrote, at any log level."""


def can_see(
    entry_visibility: str, entry_author_id: int | None, viewer_id: int, viewer_role: Role
) -> bool:
    """Whether `viewer` may read an entry. The author always sees their own entries."""
    if entry_author_id is not None and entry_author_id == viewer_id:
        return True
    if entry_visibility == Visibility.GROUP:
        return True
    if entry_visibility == Visibility.FACILITATORS:
        return viewer_role >= Role.FACILITATOR
    return False  # private, or anything unknown: closed by default


def visible_clause(
    visibility: QueryableAttribute[str],
    author: QueryableAttribute[int],
    viewer_id: int,
    viewer_role: Role,
) -> ColumnElement[bool]:
    """`can_see` as a SQL condition, for counting and listing entries in one query."""
    shown = [Visibility.GROUP.value]
    if viewer_role >= Role.FACILITATOR:
        shown.append(Visibility.FACILITATORS.value)
    return or_(author == viewer_id, visibility.in_(shown))


def audience(visibility: str) -> str:
    """Plain words for who can read an entry with `visibility`."""
    return {
        Visibility.GROUP.value: "the group",
        Visibility.FACILITATORS.value: "facilitators and you",
        Visibility.PRIVATE.value: "only you",
    }.get(visibility, "only you")


def author_label(*, named: bool, name: str | None, author_id: int | None, viewer_id: int) -> str:
    """How an entry's author appears: 'you', their name if they consented, else anonymous."""
    if author_id is not None and author_id == viewer_id:
        return "you"
    if named and name:
        return name
    return ANONYMOUS


# --- export -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DataCounts:
    checkins: int
    responses: int
    experiments: int
    cycles: int


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


async def _member(session: AsyncSession, member_id: int) -> Member:
    member = await session.get(Member, member_id)
    if member is None:
        raise NotFound("There is no data about you here.")
    return member


async def collect_export(session: AsyncSession, member_id: int) -> dict[str, Any]:
    """Everything the bot holds about one member, as plain JSON-ready values."""
    member = await _member(session, member_id)
    checkin_rows = (
        await session.execute(
            select(CheckIn, Experiment.title)
            .join(Experiment, CheckIn.experiment_id == Experiment.id)
            .where(CheckIn.member_id == member_id)
            .order_by(CheckIn.id)
        )
    ).all()
    response_rows = (
        await session.execute(
            select(Response, Round)
            .join(Round, Response.round_id == Round.id)
            .where(Response.member_id == member_id)
            .order_by(Response.id)
        )
    ).all()
    experiment_rows = (
        await session.execute(
            select(Experiment, Group.name)
            .join(Group, Experiment.group_id == Group.id)
            .where(Experiment.owner_id == member_id)
            .order_by(Experiment.id)
        )
    ).all()
    cycles = (
        await session.execute(select(Cycle).where(Cycle.created_by == member_id).order_by(Cycle.id))
    ).scalars()
    return {
        "member": {
            "platform": member.workspace.platform,
            "workspace": member.workspace.external_id,
            "user_id": member.user_id,
            "display_name": member.display_name,
            "timezone": member.timezone,
            "role": member.role,
            "away_until": member.away_until.isoformat() if member.away_until else None,
            "created_at": _iso(member.created_at),
        },
        "checkins": [
            {
                "id": c.id,
                "experiment_id": c.experiment_id,
                "experiment_title": title,
                "happened": c.happened,
                "learned": c.learned,
                "next": c.next,
                "surprise": c.surprise,
                "confidence": c.confidence,
                "visibility": c.visibility,
                "named": c.named,
                "created_at": _iso(c.created_at),
                "updated_at": _iso(c.updated_at),
            }
            for c, title in checkin_rows
        ],
        "responses": [
            {
                "id": r.id,
                "round_id": r.round_id,
                "round_title": rnd.title,
                "prompt_key": r.prompt_key,
                "prompt": _prompt_text(rnd, r.prompt_key),
                "text": r.text,
                "surprise": r.surprise,
                "visibility": r.visibility,
                "named": r.named,
                "created_at": _iso(r.created_at),
                "updated_at": _iso(r.updated_at),
            }
            for r, rnd in response_rows
        ],
        "digest_answers": await digest_answers.export_of(session, member_id),
        "experiments": [
            {
                "id": e.id,
                "group": group_name,
                "cycle_id": e.cycle_id,
                "adopted_from_id": e.adopted_from_id,
                "title": e.title,
                "hypothesis": e.hypothesis,
                "try": e.try_,
                "expect": e.expect,
                "status": e.status,
                "learned": e.learned,
                "verdict": e.verdict,
                "started_at": _iso(e.started_at),
                "concluded_at": _iso(e.concluded_at),
            }
            for e, group_name in experiment_rows
        ],
        "cycles": [
            {
                "id": c.id,
                "group_id": c.group_id,
                "name": c.name,
                "question": c.question,
                "scale": c.scale,
                "parent_id": c.parent_id,
                "created_at": _iso(c.created_at),
            }
            for c in cycles
        ],
    }


def _prompt_text(rnd: Round, key: str) -> str | None:
    for prompt in rnd.prompts:
        if prompt.get("key") == key:
            return str(prompt.get("text", ""))
    return None


def counts_of(export: dict[str, Any]) -> DataCounts:
    return DataCounts(
        checkins=len(export["checkins"]),
        responses=len(export["responses"]),
        experiments=len(export["experiments"]),
        cycles=len(export["cycles"]),
    )


# --- forget-me --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Forgotten:
    checkins: int
    responses: int
    deliveries: int
    experiments_deleted: int
    experiments_kept: int
    rewritten: int = 0  # digests, round summaries and queued or sent posts rewritten


async def traces_of(session: AsyncSession, member: Member) -> erasure.Traces:
    checkins = (
        await session.execute(
            select(CheckIn.id, CheckIn.happened, CheckIn.learned, CheckIn.next).where(
                CheckIn.member_id == member.id
            )
        )
    ).all()
    responses = (
        await session.execute(
            select(Response.id, Response.text).where(Response.member_id == member.id)
        )
    ).all()
    texts = [t for _, *fields in checkins for t in fields if t and t.strip()]
    texts += [t for _, t in responses if t and t.strip()]
    texts += await digest_answers.texts_of(session, member.id)  # quoted in "What you said"
    ids = {f"checkin:{c[0]}" for c in checkins} | {f"response:{r[0]}" for r in responses}
    return erasure.Traces(member.display_name, tuple(texts), frozenset(ids))


async def forget_member(
    session: AsyncSession, member_id: int, *, summariser: str = "offline"
) -> Forgotten:
    """Delete one member and what is theirs, inside the caller's transaction, and rewrite the
    digests, round summaries and outbox messages that quote or name them. `summariser`: the one
    round summaries are written with (a model's prose may paraphrase).

    Experiments others checked in on stay for the group, with no owner."""
    member = await _member(session, member_id)
    ws = member.workspace
    traces = await traces_of(session, member)
    answered = set(
        (
            await session.execute(
                select(Response.round_id).where(Response.member_id == member_id).distinct()
            )
        ).scalars()
    )
    checkins = await _rowcount(session, delete(CheckIn).where(CheckIn.member_id == member_id))
    responses = await _rowcount(session, delete(Response).where(Response.member_id == member_id))
    await digest_answers.forget(session, member_id)
    addressed = or_(
        Delivery.member_id == member_id,
        and_(
            Delivery.target_kind == "dm",
            Delivery.platform == ws.platform,
            Delivery.workspace == ws.external_id,
            Delivery.target == member.user_id,
        ),
    )
    deliveries = await _rowcount(session, delete(Delivery).where(addressed))
    await session.execute(delete(RoundRecipient).where(RoundRecipient.member_id == member_id))
    others = (
        select(func.count(CheckIn.id))
        .where(CheckIn.experiment_id == Experiment.id)
        .correlate(Experiment)
        .scalar_subquery()
    )
    owned = Experiment.owner_id == member_id
    deleted = await _rowcount(session, delete(Experiment).where(owned, others == 0))
    kept = await _rowcount(session, update(Experiment).where(owned).values(owner_id=None))
    await session.execute(delete(Member).where(Member.id == member_id))
    # What an adapter remembers about the person: their DM channel's id.
    dm_key = dm_channel_key(ws.platform, member.user_id)
    await session.execute(delete(AppState).where(AppState.key == dm_key))
    session.expunge(member)
    rewritten = await _rewrite_digests(session, traces)
    rewritten += await _rewrite_posts(session, traces, answered, summariser)
    return Forgotten(checkins, responses, deliveries, deleted, kept, rewritten)


def _mentions(text: str, traces: erasure.Traces) -> bool:
    return bool(traces.name.strip()) and traces.name in text


async def _rewrite_digests(session: AsyncSession, traces: erasure.Traces) -> int:
    """Stored digests (drafts and posted) without the member's words, name and entry ids."""
    rows = (await session.execute(select(Digest.id, Digest.entry_ids, Digest.text))).all()
    touched = [
        digest_id
        for digest_id, entry_ids, text in rows
        if traces.entry_ids.intersection(entry_ids or ()) or _mentions(text, traces)
    ]
    for digest_id in touched:
        digest = await session.get(Digest, digest_id)
        if digest is None:
            continue
        paraphrased = not digest.summariser.startswith("offline")
        content = erasure.scrub_message(digest.content, traces, paraphrased=paraphrased)
        digest.content = content
        digest.text = erasure.digest_text(content)
        digest.entry_ids = [i for i in digest.entry_ids if i not in traces.entry_ids]
    return len(touched)


async def _rewrite_posts(
    session: AsyncSession, traces: erasure.Traces, answered: set[int], summariser: str
) -> int:
    """Messages not sent yet, and the digests and round summaries already sent (their stored copy),
    without the member; the rounds' stored summary text follows its post."""
    paraphrased = not summariser.startswith("offline")
    query = select(Delivery).where(
        or_(
            Delivery.state != "sent",
            Delivery.key.like("digest:%"),
            Delivery.key.like("round:%:summary"),
        )
    )
    rewritten = 0
    summaries: dict[int, dict[str, Any]] = {}
    for row in (await session.execute(query)).scalars():
        is_summary = row.key.startswith("round:") and row.key.endswith(":summary")
        scrubbed = erasure.scrub_message(
            row.payload,
            traces,
            paraphrased=paraphrased and (is_summary or row.key.startswith("digest:")),
            round_summary=is_summary,
        )
        if is_summary and row.round_id is not None:
            summaries[row.round_id] = scrubbed
        if scrubbed != row.payload:
            row.payload = scrubbed
            rewritten += 1
    rounds = (await session.execute(select(Round).where(Round.summary.is_not(None)))).scalars()
    for rnd in rounds:
        if rnd.summary is None:
            continue
        if not (rnd.id in answered or rnd.id in summaries or _mentions(rnd.summary, traces)):
            continue
        text = (
            erasure.summary_text(summaries[rnd.id])
            if rnd.id in summaries
            else erasure.scrub_text(rnd.summary, traces)
        )
        if text != rnd.summary:
            rnd.summary = text
            rewritten += 1
    return rewritten


async def _rowcount(session: AsyncSession, stmt: Any) -> int:
    result: Any = await session.execute(stmt.execution_options(synchronize_session=False))
    return int(result.rowcount or 0)

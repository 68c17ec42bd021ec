"""Choice and dyad answers counted, not quoted: how many chose each option of a choice
question, and where the answers to a dyad fell between its poles. Only answers shared with the
group are counted, as only those may reach a digest or a summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Visibility
from bot.domain.plural import plural
from bot.services.rounds.questions import CHOICE, DYAD, Question, questions_of
from bot.store.models import Response, Round

BAR = 12  # characters for the most chosen option
BLOCKS = "▁▂▃▄▅▆▇█"
BUCKETS = 5  # a dyad's spread: 0-19, 20-39, ... 80-100


@dataclass(frozen=True)
class Tally:
    round_id: int
    round_title: str
    question: Question
    counts: tuple[tuple[str, int], ...] = ()  # choice: each option, in the question's order
    values: tuple[int, ...] = ()  # dyad: every answer, 0-100

    @property
    def answers(self) -> int:
        return sum(n for _, n in self.counts) + len(self.values)


def _tally(round_: Round, question: Question, answers: list[str]) -> Tally:
    if question.kind == CHOICE:
        seen = Counter(answers)
        counts = tuple((o, seen.get(o, 0)) for o in question.options)
        return Tally(round_.id, round_.title, question, counts=counts)
    values = tuple(sorted(int(a) for a in answers if a.isdigit()))
    return Tally(round_.id, round_.title, question, values=values)


async def tallies(
    session: AsyncSession, group_id: int, start: datetime, end: datetime
) -> list[Tally]:
    """The group's choice and dyad questions answered in [start, end), round by round."""
    rows = await session.execute(
        select(Round, Response.prompt_key, Response.text)
        .join(Round, Response.round_id == Round.id)
        .where(
            Round.group_id == group_id,
            Response.kind.in_((CHOICE, DYAD)),
            Response.visibility == Visibility.GROUP.value,
            Response.created_at >= start,
            Response.created_at < end,
        )
        .order_by(Round.id, Response.id)
    )
    found: dict[int, Round] = {}
    answers: dict[tuple[int, str], list[str]] = {}
    for round_, key, text in rows.all():
        found[round_.id] = round_
        answers.setdefault((round_.id, key), []).append(text)
    out = []
    for round_id, round_ in found.items():
        for question in questions_of(round_):
            given = answers.get((round_id, question.key))
            if given and question.kind in (CHOICE, DYAD):
                out.append(_tally(round_, question, given))
    return out


async def round_tallies(session: AsyncSession, round_: Round) -> list[Tally]:
    """One round's choice and dyad questions, whenever they were answered."""
    rows = await session.execute(
        select(Response.prompt_key, Response.text).where(
            Response.round_id == round_.id,
            Response.kind.in_((CHOICE, DYAD)),
            Response.visibility == Visibility.GROUP.value,
        )
    )
    answers: dict[str, list[str]] = {}
    for key, text in rows.all():
        answers.setdefault(key, []).append(text)
    return [
        _tally(round_, q, answers[q.key])
        for q in questions_of(round_)
        if q.kind in (CHOICE, DYAD) and q.key in answers
    ]


# --- in words, with a small chart -----------------------------------------------------------


def bar(count: int, most: int, width: int = BAR) -> str:
    if not count or not most:
        return ""
    return "█" * max(1, round(width * count / most))


def spread(values: tuple[int, ...]) -> str:
    """Where dyad answers fell, as five small columns from the low pole to the high one."""
    buckets = [0] * BUCKETS
    for v in values:
        buckets[min(v * BUCKETS // 100, BUCKETS - 1)] += 1
    top = max(buckets) or 1
    return "".join(BLOCKS[round((len(BLOCKS) - 1) * n / top)] if n else "·" for n in buckets)


def tally_lines(tally: Tally) -> list[str]:
    q = tally.question
    head = f"“{q.text}” (round #{tally.round_id}, {plural(tally.answers, 'answer')})"
    if tally.counts:
        most = max(n for _, n in tally.counts)
        width = max(len(option) for option, _ in tally.counts)
        rows = [f"  {o.ljust(width)}  {f'{bar(n, most)} {n}'.strip()}" for o, n in tally.counts]
        return [head, *rows]
    mean = round(sum(tally.values) / len(tally.values))
    return [head, f"  {q.low} {spread(tally.values)} {q.high}: on average {mean}/100"]


def lines_for(tallies: list[Tally]) -> list[str]:
    out: list[str] = []
    for tally in tallies:
        out.extend(tally_lines(tally))
    return out

"""A group's entries for its facilitators' own sensemaking: the check-ins and round answers a
facilitator may read (group and facilitators-only; never private), as CSV or JSON, with
anonymous authors under labels drawn for this one export. Every export is logged: who, when,
which range, how many entries; never what they held."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain import Visibility
from bot.files import write_atomic
from bot.services.entries import anonymous_labels, display_names
from bot.services.rounds.questions import questions_of
from bot.services.rounds.times import zone
from bot.store.models import CheckIn, Experiment, ExportRecord, Group, Member, Response, Round

FORMATS = ("csv", "json")
# What a facilitator may read of other people's entries; private never leaves its author.
READABLE = (Visibility.GROUP.value, Visibility.FACILITATORS.value)
# The columns, in this order, in every CSV and in every JSON entry (README: *Group export*).
COLUMNS = (
    "entry",
    "type",
    "created_at",
    "author",
    "visibility",
    "experiment_id",
    "experiment",
    "round_id",
    "round",
    "question",
    "question_kind",
    "text",
    "learned",
    "next",
    "surprise",
    "confidence",
)
# A spreadsheet runs a cell that starts with one of these as a formula; such a cell gets a
# leading apostrophe in the CSV (spreadsheets show the text as written, without it).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True)
class Range:
    start: date | None
    end: date | None  # inclusive

    def bounds(self, timezone: str) -> tuple[datetime | None, datetime | None]:
        """[start 00:00, the day after end 00:00) on the group's clock."""
        tz = zone(timezone)
        low = datetime.combine(self.start, time(), tz) if self.start else None
        high = datetime.combine(self.end + timedelta(days=1), time(), tz) if self.end else None
        return low, high

    def words(self) -> str:
        if self.start and self.end:
            return f"from {self.start.isoformat()} to {self.end.isoformat()}"
        if self.start:
            return f"from {self.start.isoformat()}"
        if self.end:
            return f"up to {self.end.isoformat()}"
        return "all dates"


def _within(column: Any, low: datetime | None, high: datetime | None) -> list[Any]:
    out = []
    if low is not None:
        out.append(column >= low)
    if high is not None:
        out.append(column < high)
    return out


async def rows_for(session: AsyncSession, group: Group, span: Range) -> list[dict[str, Any]]:
    """Every entry of the group a facilitator may read in the range, oldest first, one dict
    per entry with exactly COLUMNS."""
    low, high = span.bounds(group.timezone)
    # Columns, not ORM rows: a big group's check-ins would each become a session object.
    checkins = (
        await session.execute(
            select(
                CheckIn.id,
                CheckIn.member_id,
                CheckIn.named,
                CheckIn.visibility,
                CheckIn.experiment_id,
                CheckIn.happened,
                CheckIn.learned,
                CheckIn.next,
                CheckIn.surprise,
                CheckIn.confidence,
                CheckIn.created_at,
                Experiment.title,
            )
            .join(Experiment, CheckIn.experiment_id == Experiment.id)
            .where(
                Experiment.group_id == group.id,
                CheckIn.visibility.in_(READABLE),
                *_within(CheckIn.created_at, low, high),
            )
        )
    ).all()
    responses = (
        await session.execute(
            select(Response, Round)
            .join(Round, Response.round_id == Round.id)
            .where(
                Round.group_id == group.id,
                Response.visibility.in_(READABLE),
                *_within(Response.created_at, low, high),
            )
        )
    ).all()
    found: list[tuple[datetime, str, int, int, bool, dict[str, Any]]] = []
    for c in checkins:
        row = {
            "type": "checkin",
            "visibility": c.visibility,
            "experiment_id": c.experiment_id,
            "experiment": c.title,
            "text": c.happened,
            "learned": c.learned,
            "next": c.next,
            "surprise": c.surprise,
            "confidence": c.confidence,
        }
        found.append((c.created_at, "checkin", c.id, c.member_id, c.named, row))
    for r, round_ in responses:
        question = next((q for q in questions_of(round_) if q.key == r.prompt_key), None)
        row = {
            "type": "answer",
            "visibility": r.visibility,
            "round_id": round_.id,
            "round": round_.title,
            "question": question.text if question else r.prompt_key,
            "question_kind": r.kind,
            "text": r.text,
            "surprise": r.surprise,
        }
        found.append((r.created_at, "response", r.id, r.member_id, r.named, row))
    found.sort(key=lambda f: (f[0], f[1], f[2]))
    # Labels drawn for this export only: they match no digest's and no other export's.
    labels = anonymous_labels([(f[3], f[4]) for f in found])
    names = await display_names(session, [f[3] for f in found if f[4]])
    out = []
    for (created, kind, row_id, member_id, _, row), label in zip(found, labels, strict=True):
        entry: dict[str, Any] = dict.fromkeys(COLUMNS, "")
        entry |= row
        entry |= {
            "entry": f"{kind}:{row_id}",
            "created_at": created.isoformat(),
            "author": label or names.get(member_id, "a member"),
        }
        out.append({k: "" if entry[k] is None else entry[k] for k in COLUMNS})
    return out


def _cell(value: Any) -> str:
    text = str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_bytes(rows: list[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark (so spreadsheets read it as UTF-8), a header row, then one
    row per entry; line breaks inside a field stay inside its quotes."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row[c]) for c in COLUMNS])
    return buffer.getvalue().encode("utf-8-sig")


def json_bytes(group_name: str, span: Range, rows: list[dict[str, Any]], now: datetime) -> bytes:
    data = {
        "group": group_name,
        "exported_at": now.isoformat(),
        "from": span.start.isoformat() if span.start else None,
        "to": span.end.isoformat() if span.end else None,
        "columns": list(COLUMNS),
        "entries": rows,
    }
    return json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")


async def write(path: Path, content: bytes) -> Path:
    # Facilitators-only entries are in here: readable by the bot's user only.
    await asyncio.to_thread(write_atomic, path, content, what="the export", mode=0o600)
    return path


async def log_export(
    session: AsyncSession,
    group: Group,
    member_id: int,
    fmt: str,
    span: Range,
    entries: int,
    now: datetime,
) -> ExportRecord:
    record = ExportRecord(
        group_id=group.id,
        member_id=member_id,
        format=fmt,
        date_from=span.start,
        date_to=span.end,
        entries=entries,
        created_at=now,
    )
    session.add(record)
    await session.flush()
    return record


async def export_log(
    session: AsyncSession, group: Group, limit: int = 50
) -> list[tuple[ExportRecord, str | None]]:
    """The group's latest exports, newest first, with who made them (None: since forgotten)."""
    rows = await session.execute(
        select(ExportRecord, Member.display_name)
        .outerjoin(Member, Member.id == ExportRecord.member_id)
        .where(ExportRecord.group_id == group.id)
        .order_by(ExportRecord.created_at.desc(), ExportRecord.id.desc())
        .limit(limit)
    )
    return [(record, name) for record, name in rows.all()]

"""`export group` and `export log`: the group's readable entries as a file by DM, logged."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.commands import all_specs
from bot.commands.dispatch import Dispatcher
from bot.domain import MemberInfo, Role
from bot.services import outbox
from bot.services.context import Deps
from bot.services.group_export import COLUMNS
from bot.store.models import CheckIn, ExportRecord, Response
from tests.support.adapter import RecordingAdapter
from tests.support.chat import actor, channel_with, dm, said, say
from tests.support.clock import Clock

FRAN = actor("F1", "Fran", Role.FACILITATOR)
ADMIN = actor("A1", "Ann", Role.ADMIN)
ADA = actor("U1", "Ada")
BO = actor("U2", "Bo")
PEOPLE = [MemberInfo(a.user_id, a.display_name, a.timezone) for a in (ADA, BO)]
CANARY = "PRIVATE-CANARY-7f3e"


@pytest.fixture
def adapter(deps: Deps) -> RecordingAdapter:
    return channel_with(deps, PEOPLE)


@pytest.fixture
def bot(deps: Deps) -> Dispatcher:
    return Dispatcher(deps, all_specs())


async def _week(bot: Dispatcher, clock: Clock) -> None:
    """Check-ins and answers with every visibility, one author named, formulas and accents."""
    await say(bot, ADA, "experiment new title=Clinic hypothesis=H try=X expect=E")
    entries = [
        (ADA, "=SUM(A1:A9) café ☕", "group", "no"),
        (BO, 'Bo, named, said: "line one\nline two"', "group", "yes"),
        (ADA, "only for facilitators", "facilitators", "no"),
        (BO, CANARY, "private", "no"),
    ]
    for who, text, visibility, named in entries:
        await say(
            bot,
            who,
            "checkin 1",
            fields={
                "happened": text,
                "visibility": visibility,
                "named": named,
                "surprise": "70",
                "confidence": "40",
            },
        )
        clock.now += timedelta(minutes=5)
    await say(bot, FRAN, "round start")
    await say(bot, ADA, "answer 1", dm(ADA), fields={"tried": "a pilot", "visibility": "group"})
    await say(bot, BO, "answer 1", dm(BO), fields={"tried": CANARY, "visibility": "private"})


def _delivered(adapter: RecordingAdapter, user: str) -> Path:
    files = [p for s in adapter.sent if s.to.dm_user == user for p in s.message.attachments]
    assert len(files) == 1, files
    return Path(files[0])


async def test_a_csv_export_reads_back_as_the_database_holds_it_without_private_entries(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter, clock: Clock
) -> None:
    await _week(bot, clock)
    reply = await say(bot, FRAN, "export group", source_key="export-1")
    assert "is on its way to you by direct message" in reply.message.text
    assert "4 entries" in reply.message.text
    again = await say(bot, FRAN, "export group", source_key="export-1")
    assert again.message.text == "That request was already handled."
    await outbox.drain(deps)
    path = _delivered(adapter, "F1")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 with a byte-order mark
    assert CANARY.encode() not in raw
    assert path.stat().st_mode & 0o777 == 0o600
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0].keys()) == COLUMNS

    async with deps.db.begin() as session:
        checkins = (
            (
                await session.execute(
                    select(CheckIn).where(CheckIn.visibility != "private").order_by(CheckIn.id)
                )
            )
            .scalars()
            .all()
        )
        answers = (
            (await session.execute(select(Response).where(Response.visibility != "private")))
            .scalars()
            .all()
        )
    by_id = {r["entry"]: r for r in rows}
    assert set(by_id) == {f"checkin:{c.id}" for c in checkins} | {
        f"response:{r.id}" for r in answers
    }
    for c in checkins:
        row = by_id[f"checkin:{c.id}"]
        text = "'" + c.happened if c.happened.startswith("=") else c.happened
        assert row["text"] == text
        assert (row["type"], row["visibility"], row["surprise"]) == (
            "checkin",
            c.visibility,
            str(c.surprise),
        )
        assert row["created_at"] == c.created_at.isoformat()
        assert row["experiment"] == "Clinic"
    answer = by_id[f"response:{answers[0].id}"]
    assert (answer["round"], answer["question"], answer["question_kind"], answer["text"]) == (
        "Weekly reflection",
        "What did you try this week?",
        "text",
        "a pilot",
    )
    named = [r for r in rows if r["author"] == "Bo"]
    assert len(named) == 1 and "line one\nline two" in named[0]["text"]
    anonymous = {r["author"] for r in rows if r["author"] != "Bo"}
    # Ada's three entries share one label, drawn for this file only.
    assert len(anonymous) == 1 and all(a.startswith("Member ") for a in anonymous)
    assert "Ada" not in raw.decode("utf-8-sig")

    async with deps.db.begin() as session:
        logged = (await session.execute(select(ExportRecord))).scalars().all()
    assert [(r.format, r.entries, r.date_from, r.date_to) for r in logged] == [
        ("csv", 4, None, None)
    ]


async def test_json_export_of_a_range_and_the_export_log_for_admins(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter, clock: Clock
) -> None:
    await _week(bot, clock)
    reply = await said(bot, FRAN, "export group json from 2026-11-23 to 2026-11-23")
    assert "from 2026-11-23 to 2026-11-23, JSON" in reply
    empty = await said(bot, FRAN, "export group csv from 2026-11-24")
    assert "0 entries" in empty
    await outbox.drain(deps)
    files = sorted(
        Path(p) for s in adapter.sent if s.to.dm_user == "F1" for p in s.message.attachments
    )
    data = json.loads(next(p for p in files if p.suffix == ".json").read_text())
    assert data["columns"] == list(COLUMNS)
    assert len(data["entries"]) == 4 and CANARY not in json.dumps(data)
    assert (data["from"], data["to"]) == ("2026-11-23", "2026-11-23")

    refused = await said(bot, FRAN, "export log")
    assert "admin" in refused.lower()
    log = await said(bot, ADMIN, "export log")
    assert log.splitlines()[0] == "Exports of this group's entries, newest first (2 exports):"
    assert "Fran, CSV, from 2026-11-24, 0 entries" in log
    assert "Fran, JSON, from 2026-11-23 to 2026-11-23, 4 entries" in log
    member = await said(bot, ADA, "export group")
    assert "facilitator" in member.lower()


@pytest.mark.parametrize(
    ("words", "says"),
    [
        ("export group xml", "Use `export group [csv|json]"),
        ("export group from 2026-13-01", "'2026-13-01' after `from` is not a date"),
        ("export group from 1.12.2026", "'1.12.2026' after `from` is not a date"),
        ("export group from 2026-11-30 to 2026-11-01", "The `from` date is after the `to` date."),
        ("export group from", "Use `export group"),
        ("export group to 2026-11-30 to 2026-12-01", "Use `export group"),
    ],
)
async def test_bad_export_words_get_a_short_answer_and_nothing_is_logged(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter, words: str, says: str
) -> None:
    await say(bot, FRAN, "round start")
    assert says in await said(bot, FRAN, words)
    async with deps.db.begin() as session:
        assert (await session.execute(select(ExportRecord))).first() is None


async def test_a_forgotten_facilitator_leaves_the_log_without_a_name_and_no_file(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter, clock: Clock
) -> None:
    await _week(bot, clock)
    await say(bot, FRAN, "export group")
    await outbox.drain(deps)
    path = _delivered(adapter, "F1")
    assert path.exists()
    assert "Deleted your profile" in await said(bot, FRAN, "forget-me confirm")
    assert not path.exists()
    log = await said(bot, ADMIN, "export log")
    assert "a member since forgotten, CSV, all dates, 4 entries" in log

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from itertools import product
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.domain import ChannelRef, Message, Platform, Role
from bot.domain.keys import dm_channel_key
from bot.services import (
    checkins,
    cycles,
    erasure,
    experiments,
    exportfiles,
    groups,
    members,
    outbox,
    privacy,
)
from bot.store.database import Database
from bot.store.models import (
    AppState,
    CheckIn,
    Cycle,
    Delivery,
    Experiment,
    Group,
    Member,
    Response,
    Round,
    RoundRecipient,
)
from tests.support.chat import ADA, BEA, HERE

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

AUTHOR, VIEWER = 1, 2


@pytest.mark.parametrize(
    ("visibility", "viewer", "role", "expected"),
    [
        ("group", VIEWER, Role.MEMBER, True),
        ("facilitators", VIEWER, Role.MEMBER, False),
        ("facilitators", VIEWER, Role.LEADER, False),
        ("facilitators", VIEWER, Role.FACILITATOR, True),
        ("facilitators", VIEWER, Role.ADMIN, True),
        ("private", VIEWER, Role.ADMIN, False),
        ("private", AUTHOR, Role.MEMBER, True),
        ("facilitators", AUTHOR, Role.MEMBER, True),
        ("something-new", VIEWER, Role.ADMIN, False),
    ],
)
def test_can_see(visibility: str, viewer: int, role: Role, expected: bool) -> None:
    assert privacy.can_see(visibility, AUTHOR, viewer, role) is expected


def test_only_group_entries_are_shareable() -> None:
    assert privacy.SHAREABLE == ("group",)
    assert set(privacy.VISIBILITIES) == {"group", "facilitators", "private"}


def test_author_label_is_anonymous_without_consent() -> None:
    label = privacy.author_label
    assert label(named=False, name="Bea", author_id=AUTHOR, viewer_id=VIEWER) == "a member"
    assert label(named=True, name="Bea", author_id=AUTHOR, viewer_id=VIEWER) == "Bea"
    assert label(named=True, name="Bea", author_id=AUTHOR, viewer_id=AUTHOR) == "you"


def test_export_path_is_a_safe_file_name(tmp_path: Path) -> None:
    path = exportfiles.export_path(tmp_path, "slack", "../../etc/U1 x", NOW)
    assert path.parent == tmp_path / "exports"
    assert path.name == "slack-.._.._etc_U1_x-20261123T090000Z.json"


async def _people(db: Database) -> tuple[Group, int, int]:
    async with db.begin() as s:
        group = await groups.ensure_group(s, HERE, name="here", timezone="UTC")
        ada = await members.ensure_member(s, ADA)
        bea = await members.ensure_member(s, BEA)
        return group, ada.id, bea.id


async def _experiment(db: Database, group: Group, owner: int, title: str) -> Experiment:
    async with db.begin() as s:
        return await experiments.create_experiment(
            s,
            group,
            title=title,
            hypothesis="H",
            try_="X",
            expect="E",
            cycle_id=None,
            owner_id=owner,
            now=NOW,
        )


async def _checkin(db: Database, exp: Experiment, member_id: int, visibility: str) -> None:
    async with db.begin() as s:
        data = checkins.CheckInData(happened=f"{visibility} entry", visibility=visibility)
        await checkins.record(s, exp, member_id, data, source_key=None, now=NOW)


async def test_visible_clause_agrees_with_can_see(db: Database) -> None:
    group, ada, bea = await _people(db)
    exp = await _experiment(db, group, ada, "T")
    for member_id, visibility in product((ada, bea), privacy.VISIBILITIES):
        await _checkin(db, exp, member_id, visibility)
    async with db.begin() as s:
        rows = list((await s.execute(select(CheckIn))).scalars())
        for viewer, role in product((ada, bea, 999), Role):
            clause = privacy.visible_clause(CheckIn.visibility, CheckIn.member_id, viewer, role)
            found = set((await s.execute(select(CheckIn.id).where(clause))).scalars())
            expected = {
                c.id for c in rows if privacy.can_see(c.visibility, c.member_id, viewer, role)
            }
            assert found == expected, (viewer, role)


async def _round(db: Database, group: Group) -> int:
    async with db.begin() as s:
        rnd = Round(
            group_id=group.id,
            template_key="weekly-reflection",
            title="Week 48",
            intro="",
            prompts=[{"key": "noticed", "text": "What did you notice?"}],
            platform="console",
            workspace="console",
            channel="learning",
            closes_at=NOW + timedelta(days=3),
        )
        s.add(rnd)
        await s.flush()
        return rnd.id


async def test_export_holds_everything_about_the_member(db: Database, tmp_path: Path) -> None:
    group, ada, bea = await _people(db)
    exp = await _experiment(db, group, ada, "Mine")
    theirs = await _experiment(db, group, bea, "Theirs")
    await _checkin(db, exp, ada, "private")
    await _checkin(db, theirs, ada, "group")
    await _checkin(db, theirs, bea, "group")
    round_id = await _round(db, group)
    async with db.begin() as s:
        s.add(Response(round_id=round_id, member_id=ada, prompt_key="noticed", text="a lot"))
        await cycles.create_cycle(
            s, group, name="C", question="q?", scale="team", parent_id=None, created_by=ada
        )
    async with db.begin() as s:
        data = await privacy.collect_export(s, ada)
    assert data["member"]["user_id"] == "u1"
    assert data["member"]["display_name"] == "Ada"
    assert data["member"]["platform"] == "console"
    assert sorted(c["happened"] for c in data["checkins"]) == ["group entry", "private entry"]
    assert [r["text"] for r in data["responses"]] == ["a lot"]
    assert data["responses"][0]["prompt"] == "What did you notice?"
    assert [e["title"] for e in data["experiments"]] == ["Mine"]
    assert [c["name"] for c in data["cycles"]] == ["C"]
    assert privacy.counts_of(data) == privacy.DataCounts(2, 1, 1, 1)
    path = await exportfiles.write_export(
        exportfiles.export_path(tmp_path, "console", "u1", NOW), data
    )
    assert json.loads(path.read_text(encoding="utf-8")) == data
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


async def test_forget_member_removes_theirs_and_keeps_the_groups(db: Database) -> None:
    group, ada, bea = await _people(db)
    alone = await _experiment(db, group, ada, "Only Ada checked in")
    shared = await _experiment(db, group, ada, "Bea checked in too")
    bea_exp = await _experiment(db, group, bea, "Bea's")
    await _checkin(db, alone, ada, "group")
    await _checkin(db, shared, ada, "private")
    await _checkin(db, shared, bea, "group")
    await _checkin(db, bea_exp, ada, "facilitators")
    await _checkin(db, bea_exp, bea, "group")
    round_id = await _round(db, group)
    async with db.begin() as s:
        s.add(Response(round_id=round_id, member_id=ada, prompt_key="noticed", text="mine"))
        s.add(Response(round_id=round_id, member_id=bea, prompt_key="noticed", text="hers"))
        s.add(RoundRecipient(round_id=round_id, member_id=ada))
        cycle = await cycles.create_cycle(
            s, group, name="C", question="q?", scale="team", parent_id=None, created_by=ada
        )
        dm = ChannelRef(Platform.CONSOLE, "console", "u1", dm_user="u1")
        bea_dm = ChannelRef(Platform.CONSOLE, "console", "u2", dm_user="u2")
        await outbox.enqueue(s, key="a", to=dm, message=Message("hi"), member_id=ada)
        await outbox.enqueue(s, key="b", to=dm, message=Message("no member id"))
        await outbox.enqueue(s, key="c", to=bea_dm, message=Message("hi"), member_id=bea)
        await outbox.enqueue(s, key="d", to=HERE, message=Message("channel post"))
    async with db.begin() as s:
        gone = await privacy.forget_member(s, ada)
    assert gone == privacy.Forgotten(
        checkins=3, responses=1, deliveries=2, experiments_deleted=1, experiments_kept=1
    )
    async with db.begin() as s:
        assert await s.get(Member, ada) is None
        assert await s.get(Experiment, alone.id) is None
        kept = await s.get(Experiment, shared.id)
        assert kept is not None and kept.owner_id is None
        assert {c.member_id for c in (await s.execute(select(CheckIn))).scalars()} == {bea}
        assert [r.text for r in (await s.execute(select(Response))).scalars()] == ["hers"]
        assert sorted((await s.execute(select(Delivery.key))).scalars()) == ["c", "d"]
        assert (await s.execute(select(func.count(RoundRecipient.id)))).scalar_one() == 0
        remaining = await s.get(Cycle, cycle.id)
        assert remaining is not None and remaining.created_by is None
        assert (await s.execute(select(func.count(CheckIn.id)))).scalar_one() == 2


ADA_WORDS = "The clinic pilot halved the queue for families"
BEA_WORDS = "Bea saw the same thing at the library desk"


async def _checkin_text(db: Database, exp: Experiment, member_id: int, text: str) -> str:
    async with db.begin() as s:
        data = checkins.CheckInData(happened=text, visibility="group")
        row, _ = await checkins.record(s, exp, member_id, data, source_key=None, now=NOW)
        return f"checkin:{row.id}"


def _theme_digest(ada_id: str, bea_id: str) -> Message:
    from bot.domain import Section

    learning = (
        "*clinic, queue*: The clinic pilot, one member says, halved the waiting.\n"
        f"  > “{ADA_WORDS}.” (Member B)\n"
        f"  > “{BEA_WORDS}.” (Member A)\n\n"
        "*desk*: Libraries see it too.\n"
        f"  > “{BEA_WORDS}.” (Bea)"
    )
    surprises = f"• 90/100: “{ADA_WORDS[:20]}…” (Ada). It challenges #1 “Pilot”."
    return Message(
        "Weekly digest · here · 2026-W48: 1 experiment running.",
        (
            Section("What we are learning", learning, (ada_id, bea_id)),
            Section("Surprises and dissonance", surprises, (ada_id,)),
            Section("Momentum", "• Check-ins: 2 (2 shared with the group).", ("experiment:1",)),
        ),
    )


async def test_forget_member_rewrites_what_others_were_sent_and_what_is_stored(
    db: Database,
) -> None:
    from bot.domain import Section
    from bot.services import rounds
    from bot.services.digests.render import plain_text
    from bot.store.models import Digest

    group, ada, bea = await _people(db)
    exp = await _experiment(db, group, bea, "Pilot")
    ada_id = await _checkin_text(db, exp, ada, ADA_WORDS + ".")
    bea_id = await _checkin_text(db, exp, bea, BEA_WORDS + ".")
    round_id = await _round(db, group)
    digest = _theme_digest(ada_id, bea_id)
    summary = Message(
        "Round #1 *Week 48* is closed: 2 of 2 members answered.",
        (
            Section(
                "queue",
                f'The queue got shorter.\n> "{ADA_WORDS}." (Member A)',
                (ada_id,),
            ),
        ),
    )
    bea_dm = ChannelRef(Platform.CONSOLE, "console", "u2", dm_user="u2")
    async with db.begin() as s:
        s.add(
            Digest(
                group_id=group.id,
                week="2026-W48",
                variant="group",
                text=plain_text(digest),
                content=digest.to_json(),
                entry_ids=[ada_id, bea_id],
                summariser="llm",
                state="posted",
            )
        )
        rnd = await s.get_one(Round, round_id)
        rnd.summary = rounds.message_text(summary)
        await outbox.enqueue(
            s, key="digest:1:2026-W48:group:console:learning", to=HERE, message=digest
        )
        await outbox.enqueue(
            s, key=f"round:{round_id}:summary", to=HERE, message=summary, round_id=round_id
        )
        await outbox.enqueue(
            s,
            key="role:2",
            to=bea_dm,
            message=Message("Ada made you a facilitator."),
            member_id=bea,
        )
    async with db.begin() as s:
        gone = await privacy.forget_member(s, ada, summariser="llm")
    assert gone.rewritten == 5  # the digest, two posts, the round summary, the queued DM
    async with db.begin() as s:
        row = (await s.execute(select(Digest))).scalar_one()
        posts = {d.key: d.payload for d in (await s.execute(select(Delivery))).scalars()}
        stored_summary = (await s.get_one(Round, round_id)).summary
    for text in (row.text, json.dumps(row.content, ensure_ascii=False), stored_summary or ""):
        assert ADA_WORDS[:20] not in text and "Ada" not in text
        assert "one member says" not in text  # a model's prose about her entry goes too
    for payload in posts.values():
        dumped = json.dumps(payload, ensure_ascii=False)
        assert ADA_WORDS[:20] not in dumped and "Ada" not in dumped
    learning = row.content["sections"][0]
    assert learning["text"] == (
        f"*clinic, queue*\n  > “{BEA_WORDS}.” (Member A)\n\n*desk*\n  > “{BEA_WORDS}.” (Bea)"
    )
    assert learning["source_ids"] == [bea_id]
    assert row.content["sections"][1]["text"] == erasure.REMOVED
    assert row.content["sections"][2]["text"] == "• Check-ins: 2 (2 shared with the group)."
    assert row.entry_ids == [bea_id]
    assert "Round #1 *Week 48* is closed" in (stored_summary or "")
    assert posts["role:2"]["text"] == erasure.REMOVED


async def test_forget_member_keeps_offline_theme_summaries(db: Database) -> None:
    """An offline summary counts entries and names terms; it keeps its sentence."""
    traces = erasure.Traces("Ada", (ADA_WORDS + ".",), frozenset({"checkin:1"}))
    digest = _theme_digest("checkin:1", "checkin:2").to_json()
    kept = erasure.scrub_message(digest, traces, paraphrased=False)
    assert kept["sections"][0]["text"].startswith(
        "*clinic, queue*: The clinic pilot, one member says, halved the waiting.\n"
        f"  > “{BEA_WORDS}.” (Member A)"
    )


async def test_export_files_go_within_the_hour_and_forget_me_takes_only_theirs(
    tmp_path: Path,
) -> None:
    data: dict[str, object] = {"member": {}}
    old = await exportfiles.write_export(
        exportfiles.export_path(tmp_path, "console", "u1", NOW), data
    )
    later = NOW + timedelta(minutes=30)
    new = await exportfiles.write_export(
        exportfiles.export_path(tmp_path, "console", "u1", later), data
    )
    other = await exportfiles.write_export(
        exportfiles.export_path(tmp_path, "console", "u10", NOW), data
    )
    assert await exportfiles.expire_exports(tmp_path, NOW + timedelta(minutes=49)) == 0
    assert await exportfiles.expire_exports(tmp_path, NOW + timedelta(minutes=50)) == 2
    assert not old.exists() and not other.exists() and new.exists()
    other = await exportfiles.write_export(
        exportfiles.export_path(tmp_path, "console", "u10", later), data
    )
    assert await exportfiles.delete_exports(tmp_path, "console", "u1") == 1
    assert not new.exists() and other.exists()


def test_a_short_sentence_of_theirs_goes_and_others_words_stay() -> None:
    traces = erasure.Traces("Ada", ("It worked. Then the queue halved for everyone.",), frozenset())
    text = (
        "• 80/100: “It worked.” (Member B)\n"
        "• 70/100: “It rained.” (Member A)\n"
        "  > “the queue halved” (Member B)\n"
        "• Adaline wrote nothing here."
    )
    assert erasure.scrub_text(text, traces) == (
        "• 70/100: “It rained.” (Member A)\n• Adaline wrote nothing here."
    )


async def test_forget_member_removes_the_dm_channel_an_adapter_kept(db: Database) -> None:
    """Discord keeps a person's DM channel id in the adapters' store: forgetting them drops it,
    and only theirs."""
    _, ada, _ = await _people(db)
    async with db.begin() as s:
        person = await s.get(Member, ada)
        assert person is not None
        ws = person.workspace
        theirs = dm_channel_key(ws.platform, person.user_id)
        s.add(AppState(key=theirs, value="9001"))
        s.add(AppState(key=dm_channel_key(ws.platform, "someone-else"), value="9002"))
    async with db.begin() as s:
        await privacy.forget_member(s, ada)
    async with db.begin() as s:
        assert await s.get(AppState, theirs) is None
        assert await s.get(AppState, dm_channel_key(ws.platform, "someone-else")) is not None

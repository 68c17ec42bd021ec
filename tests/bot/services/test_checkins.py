from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.domain import Role
from bot.errors import NotFound, UserError
from bot.services import checkins, experiments, groups, members
from bot.store.database import Database
from tests.support.chat import ADA, BEA, CAL, HERE

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


async def _setup(db: Database) -> tuple[int, int, int, int]:
    """A running experiment owned by Ada: (experiment, ada, bea, cal) ids."""
    async with db.begin() as s:
        group = await groups.ensure_group(s, HERE, name="here", timezone="UTC")
        ada = await members.ensure_member(s, ADA)
        bea = await members.ensure_member(s, BEA)
        cal = await members.ensure_member(s, CAL)
        e = await experiments.create_experiment(
            s,
            group,
            title="T",
            hypothesis="H",
            try_="X",
            expect="E",
            cycle_id=None,
            owner_id=ada.id,
            now=NOW,
        )
        return e.id, ada.id, bea.id, cal.id


async def _record(
    db: Database, exp_id: int, member_id: int, data: checkins.CheckInData, key: str | None = None
) -> tuple[int, bool]:
    async with db.begin() as s:
        e = await experiments.get_experiment(s, exp_id)
        c, created = await checkins.record(s, e, member_id, data, source_key=key, now=NOW)
        return c.id, created


async def test_a_replayed_submit_saves_once(db: Database) -> None:
    exp, ada, _, _ = await _setup(db)
    data = checkins.CheckInData(happened="ran it", surprise=80, confidence=30)
    first = await _record(db, exp, ada, data, key="slack:trigger-1")
    again = await _record(db, exp, ada, data, key="slack:trigger-1")
    other = await _record(db, exp, ada, data, key="slack:trigger-2")
    assert first[1] is True and again == (first[0], False)
    assert other[0] != first[0]
    async with db.begin() as s:
        e = await experiments.get_experiment(s, exp)
        _entries, total = await checkins.visible_on(
            s, e, viewer_id=ada, viewer_role=Role.MEMBER, in_group=True
        )
        assert total == 2
        c = await checkins.get_checkin(s, first[0])
        assert (c.surprise, c.confidence, c.visibility, c.named) == (80, 30, "group", False)


async def test_only_running_experiments_take_checkins(db: Database) -> None:
    exp, ada, _, _ = await _setup(db)
    async with db.begin() as s:
        await experiments.conclude(
            s, exp, member_id=ada, role=Role.MEMBER, learned="L", verdict="weaker", now=NOW
        )
    with pytest.raises(UserError, match="only running experiments take check-ins"):
        await _record(db, exp, ada, checkins.CheckInData(happened="late"))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"surprise": 101}, "surprise must be from 0 to 100"),
        ({"confidence": -1}, "confidence must be from 0 to 100"),
        ({"visibility": "everyone"}, "visibility must be one of"),
        ({"happened": "  "}, "happened is required"),
    ],
)
def test_data_refuses_bad_values(kwargs: dict[str, object], message: str) -> None:
    values: dict[str, object] = {"happened": "ok", **kwargs}
    with pytest.raises(UserError, match=message):
        checkins.CheckInData(**values)  # type: ignore[arg-type]


async def test_only_the_author_edits(db: Database) -> None:
    exp, ada, bea, _ = await _setup(db)
    cid, _ = await _record(db, exp, bea, checkins.CheckInData(happened="first"))
    later = NOW + timedelta(hours=2)
    changed = checkins.CheckInData(happened="second", visibility="private", named=True)
    async with db.begin() as s:
        with pytest.raises(NotFound, match=f"no check-in #{cid}"):
            await checkins.edit(s, cid, ada, changed, now=later)
        with pytest.raises(NotFound):
            await checkins.edit(s, 9999, bea, changed, now=later)
    async with db.begin() as s:
        c = await checkins.edit(s, cid, bea, changed, now=later)
        assert (c.happened, c.visibility, c.named) == ("second", "private", True)
        assert (c.created_at, c.updated_at) == (NOW, later)
        assert checkins.as_fields(c)["named"] == "yes"


async def test_visible_on_follows_visibility_and_consent(db: Database) -> None:
    exp, ada, bea, cal = await _setup(db)
    await _record(db, exp, bea, checkins.CheckInData(happened="anon"))
    await _record(db, exp, bea, checkins.CheckInData(happened="named", named=True))
    await _record(db, exp, bea, checkins.CheckInData(happened="fac", visibility="facilitators"))
    await _record(db, exp, bea, checkins.CheckInData(happened="priv", visibility="private"))
    await _record(db, exp, cal, checkins.CheckInData(happened="cal's", visibility="private"))

    async def seen(viewer: int, role: Role, in_group: bool = True) -> list[tuple[str, str]]:
        async with db.begin() as s:
            e = await experiments.get_experiment(s, exp)
            entries, _ = await checkins.visible_on(
                s, e, viewer_id=viewer, viewer_role=role, in_group=in_group
            )
            return [(v.checkin.happened, v.author) for v in entries]

    assert await seen(ada, Role.MEMBER) == [("anon", "a member"), ("named", "Bea")]
    assert await seen(ada, Role.FACILITATOR) == [
        ("anon", "a member"),
        ("named", "Bea"),
        ("fac", "a member"),
    ]
    assert await seen(bea, Role.MEMBER) == [
        ("anon", "you"),
        ("named", "you"),
        ("fac", "you"),
        ("priv", "you"),
    ]
    assert await seen(cal, Role.MEMBER, in_group=False) == [("cal's", "you")]
    assert await seen(ada, Role.ADMIN, in_group=False) == []


async def test_visible_on_keeps_the_latest(db: Database) -> None:
    exp, ada, _, _ = await _setup(db)
    for n in range(5):
        async with db.begin() as s:
            e = await experiments.get_experiment(s, exp)
            data = checkins.CheckInData(happened=f"n{n}")
            await checkins.record(s, e, ada, data, source_key=None, now=NOW + timedelta(minutes=n))
    async with db.begin() as s:
        e = await experiments.get_experiment(s, exp)
        entries, total = await checkins.visible_on(
            s, e, viewer_id=ada, viewer_role=Role.MEMBER, in_group=True, limit=2
        )
    assert total == 5
    assert [v.checkin.happened for v in entries] == ["n3", "n4"]


async def test_a_replay_after_the_experiment_concluded_returns_the_first(db: Database) -> None:
    exp, ada, _, _ = await _setup(db)
    data = checkins.CheckInData(happened="ran it")
    first = await _record(db, exp, ada, data, key="slack:trigger-9")
    async with db.begin() as s:
        e = await experiments.get_experiment(s, exp)
        e.status = experiments.CONCLUDED
    assert await _record(db, exp, ada, data, key="slack:trigger-9") == (first[0], False)
    with pytest.raises(UserError, match="concluded"):
        await _record(db, exp, ada, data, key="slack:trigger-10")


async def test_record_many_stores_each_interaction_once(db: Database) -> None:
    exp, ada, bea, _ = await _setup(db)
    one = checkins.CheckInData(happened="first visit", surprise=70)
    two = checkins.CheckInData(happened="second visit", visibility="private")
    await _record(db, exp, ada, one, key="import:1")  # stored before the batch
    batch = [
        checkins.NewCheckIn(exp, ada, one, source_key="import:1"),  # seen before
        checkins.NewCheckIn(exp, bea, two, source_key="import:2"),
        checkins.NewCheckIn(exp, bea, one, source_key="import:2"),  # repeated in the batch
        checkins.NewCheckIn(exp, ada, two),  # no key: always stored
    ]
    async with db.begin() as s:
        assert await checkins.record_many(s, batch, now=NOW) == 2
    async with db.begin() as s:
        assert await checkins.record_many(s, batch[:3], now=NOW) == 0
        by_key = await checkins.find_by_source(s, "import:2")
        assert by_key is not None and by_key.happened == "second visit"
        assert by_key.visibility == "private" and by_key.created_at == NOW
        e = await experiments.get_experiment(s, exp)
        _shown, total = await checkins.visible_on(
            s, e, viewer_id=bea, viewer_role=Role.MEMBER, in_group=True
        )
    # Three stored: ada's two (one private) and bea's private one. Bea sees ada's shared one
    # and her own.
    assert total == 2


async def test_record_many_refuses_a_batch_for_an_experiment_not_running(db: Database) -> None:
    exp, ada, _, _ = await _setup(db)
    async with db.begin() as s:
        e = await experiments.get_experiment(s, exp)
        e.status = experiments.CONCLUDED
    data = checkins.CheckInData(happened="late")
    with pytest.raises(UserError, match="concluded"):
        async with db.begin() as s:
            await checkins.record_many(s, [checkins.NewCheckIn(exp, ada, data)], now=NOW)
    with pytest.raises(NotFound):
        async with db.begin() as s:
            await checkins.record_many(s, [checkins.NewCheckIn(exp + 99, ada, data)], now=NOW)

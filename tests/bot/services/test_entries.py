from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.services import entries
from bot.store.database import Database
from bot.store.models import AppState
from tests.support import world
from tests.support.chat import OTHER

MON = datetime(2026, 11, 23, tzinfo=UTC)
NEXT_MON = MON + timedelta(days=7)


async def test_only_group_visible_entries_in_the_window(db: Database) -> None:
    async with db.begin() as s:
        g = await world.group(s)
        other = await world.group(s, OTHER, name="Other")
        ada = await world.member(s, "u1", "Ada")
        e = await world.experiment(s, g, "Doorstep", started_at=MON - timedelta(days=20))
        far = await world.experiment(s, other, "Elsewhere", started_at=MON)
        at = MON + timedelta(days=1)
        shared = await world.checkin(s, e, ada, "We went to the door.", at=at, learned="It helped.")
        await world.checkin(s, e, ada, "CANARY-PRIVATE", at=at, visibility="private")
        await world.checkin(s, e, ada, "CANARY-FACILITATORS", at=at, visibility="facilitators")
        await world.checkin(s, e, ada, "Too early.", at=MON - timedelta(seconds=1))
        await world.checkin(s, e, ada, "Too late.", at=NEXT_MON)
        await world.checkin(s, far, ada, "Another group's words.", at=at)
        rnd = await world.round_(s, g, opened_at=MON, closes_at=NEXT_MON, recipients=[ada])
        answer = await world.response(s, rnd, ada, "I tried listening.", at=at, surprise=80)
        await world.response(
            s, rnd, ada, "CANARY-ANSWER", at=at, prompt_key="noticed", visibility="private"
        )
    async with db.begin() as s:
        found = await entries.group_entries(s, g.id, MON, NEXT_MON)
    assert [e.id for e in found] == [f"checkin:{shared.id}", f"response:{answer.id}"]
    assert found[0].entry.text == "We went to the door.\n\nIt helped."
    assert found[0].experiment_id == e.id and found[0].kind == "checkin"
    assert found[1].round_id == rnd.id and found[1].prompt_key == "tried"
    assert found[1].surprise == 80
    assert not any("CANARY" in x.entry.text for x in found)


async def test_labels_hold_within_one_call_and_names_only_when_chosen(db: Database) -> None:
    async with db.begin() as s:
        g = await world.group(s)
        ada = await world.member(s, "u1", "Ada Lovelace")
        bea = await world.member(s, "u2", "Bea Brown")
        e = await world.experiment(s, g, "Doorstep", started_at=MON - timedelta(days=20))
        await world.checkin(s, e, ada, "Ada one.", at=MON + timedelta(hours=1))
        await world.checkin(s, e, ada, "Ada two.", at=MON + timedelta(hours=2))
        await world.checkin(s, e, bea, "Bea wrote this.", at=MON + timedelta(hours=3))
        await world.checkin(s, e, bea, "Bea again.", at=MON + timedelta(hours=4))
        await world.checkin(s, e, bea, "Bea signed this.", at=MON + timedelta(hours=5), named=True)
    async with db.begin() as s:
        found = await entries.group_entries(s, g.id, MON, NEXT_MON)
        stored = (await s.execute(select(func.count()).select_from(AppState))).scalar_one()
    ada1, ada2, bea1, bea2, bea_named = (x.entry.author for x in found)
    assert ada1 == ada2 and re.fullmatch(r"Member [A-Z]", ada1)  # one thread, one label
    # Bea is named in this call: her anonymous entries are not tied to her or to each other.
    assert len({ada1, bea1, bea2}) == 3
    assert all(re.fullmatch(r"Member [A-Z]", x) for x in (bea1, bea2))
    assert bea_named == "Bea Brown"
    assert stored == 0  # no per-install key from which a lasting pseudonym could be made


def test_labels_are_drawn_afresh_each_time() -> None:
    authors = [(m, False) for m in (7, 8, 9, 7, 10, 11)]
    draws = [entries.anonymous_labels(authors) for _ in range(30)]
    for labels in draws:
        assert labels[0] == labels[3]  # the same member, the same label, within one call
        assert len(set(labels)) == 5
        assert set(labels) == {f"Member {c}" for c in "ABCDE"}
    # Which letter member 7 gets changes from call to call: nothing carries over.
    assert len({labels[0] for labels in draws}) > 1
    assert (
        entries.anonymous_labels([(1, True), (1, False), (1, False)], random.Random(0))[0] is None
    )


def test_labels_past_z() -> None:
    labels = entries.anonymous_labels([(m, False) for m in range(30)], random.Random(0))
    assert len(set(labels)) == 30 and "Member AD" in labels


async def test_connected_cycles_roll_up_child_groups(db: Database) -> None:
    async with db.begin() as s:
        parent_group = await world.group(s)
        child_group = await world.group(s, OTHER, name="Northshire team")
        ada = await world.member(s, "u1", "Ada")
        place = await world.cycle(s, parent_group, "Place", scale="place")
        team = await world.cycle(s, child_group, "Front door", parent_id=place.id)
        unrelated = await world.cycle(s, child_group, "Unrelated")
        e = await world.experiment(
            s, child_group, "Cardiogram", started_at=MON - timedelta(days=3), cycle_id=team.id
        )
        elsewhere = await world.experiment(
            s, child_group, "Other", started_at=MON, cycle_id=unrelated.id
        )
        at = MON + timedelta(days=2)
        shown = await world.checkin(s, e, ada, "The family relaxed.", at=at, surprise=90)
        await world.checkin(s, e, ada, "CANARY-PRIVATE", at=at, visibility="private")
        await world.checkin(s, elsewhere, ada, "Not under the parent.", at=at)
    async with db.begin() as s:
        links = await entries.connected_cycles(s, parent_group.id, MON, NEXT_MON)
        assert await entries.connected_cycles(s, child_group.id, MON, NEXT_MON) == []
    assert len(links) == 1
    link = links[0]
    assert (link.cycle.id, link.parent.id) == (team.id, place.id)
    assert [x.id for x in link.experiments] == [e.id]
    assert [x.id for x in link.entries] == [f"checkin:{shown.id}"]

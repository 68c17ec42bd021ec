"""A week in the life of a bridged group, shared by the digest tests."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from bot.domain import ChannelRef, Platform
from bot.services import groups
from bot.services.context import Deps
from bot.services.digests.build import build_digest
from bot.services.digests.isoweek import week_bounds
from bot.store.models import Alarm, Delivery, Digest, Group
from bot.summarise import Entry, Summary
from bot.summarise.offline import OfflineSummariser
from tests.support import world

MON = datetime(2026, 11, 23, tzinfo=UTC)  # ISO week 2026-W48 starts here
WEEK = "2026-W48"
SLACK = ChannelRef(Platform.SLACK, "T1", "C1")
OTHER = ChannelRef(Platform.CONSOLE, "console", "north")
CANARIES = ("CANARY-PRIVATE-1", "CANARY-FACILITATORS-2", "CANARY-ANSWER-3", "CANARY-CHILD-4")
HIDDEN_NAMES = ("Bea Brown", "Cal Jones", "Dan Smith")

CARDIOGRAM = [
    "We did the cardiogram on the doorstep and the patient relaxed straight away.",
    "The nurse said the cardiogram result persuaded the family more than any leaflet.",
    "Doing the cardiogram at home found one heart rhythm problem the clinic missed.",
    "Our nurse now carries the cardiogram kit on every visit; patients expect it.",
]
TRANSPORT = [
    "The bus timetable changed again and two families missed the clinic bus.",
    "Families told us the bus fare is the reason they skip appointments.",
    "A volunteer driver offered lifts when the bus timetable failed people.",
    "Nobody trusts the bus timetable any more; people walk an hour instead.",
]
HOUSING = [
    "The landlord ignored the damp in the flat for the third month running.",
    "We wrote to the landlord together with the tenant and the repairs finally started.",
    "A damp meter reading gave the tenant evidence the landlord could not dismiss.",
    "Housing officers now join our visits when a tenant reports damp.",
]


@dataclass
class Scene:
    group: Group
    ids: dict[str, int]


class Recording:
    """Wraps a summariser and keeps every entry it was given."""

    def __init__(self, inner: object | None = None) -> None:
        self.inner = inner or OfflineSummariser()
        self.name = "recording"
        self.seen: list[Entry] = []
        self.history: list[str] = []

    async def summarise(
        self,
        entries: Sequence[Entry],
        *,
        max_themes: int,
        max_quotes: int,
        history: Sequence[str] = (),
    ) -> Summary:
        self.seen.extend(entries)
        self.history.extend(history)
        return await self.inner.summarise(  # type: ignore[attr-defined, no-any-return]
            entries, max_themes=max_themes, max_quotes=max_quotes, history=history
        )


async def scene(deps: Deps) -> Scene:
    """A week in the life of a bridged group, with a child cycle in another group."""
    ids: dict[str, int] = {}
    async with deps.db.begin() as s:
        g = await world.group(s)
        await groups.bind_channel(s, g, SLACK)
        north = await world.group(s, OTHER, name="North team")
        ada = await world.member(s, "u1", "Ada Lovelace")
        bea = await world.member(s, "u2", "Bea Brown")
        cal = await world.member(s, "u3", "Cal Jones")
        dan = await world.member(s, "u4", "Dan Smith")
        people = [ada, bea, cal, dan]

        place = await world.cycle(s, g, "Northshire", scale="place")
        door = await world.cycle(s, north, "Front door", parent_id=place.id)
        original = await world.experiment(
            s,
            north,
            "Cardiogram first",
            started_at=MON - timedelta(weeks=6),
            status="concluded",
            verdict="stronger",
            concluded_at=MON - timedelta(weeks=1),
            learned="Families said yes when they saw the trace.",
            cycle_id=door.id,
        )
        child_exp = await world.experiment(
            s, north, "Doorstep chats", started_at=MON - timedelta(weeks=2), cycle_id=door.id
        )
        await world.checkin(
            s,
            child_exp,
            dan,
            "Neighbours came out to talk while we waited at the door.",
            at=MON + timedelta(days=1),
            surprise=88,
        )
        await world.checkin(
            s,
            child_exp,
            dan,
            f"{CANARIES[3]} never leaves north.",
            at=MON + timedelta(days=1),
            visibility="private",
        )

        cardio = await world.experiment(
            s,
            g,
            "Cardiogram at the door",
            started_at=MON - timedelta(weeks=2),
            hypothesis="Families refuse a test at the door.",
            cycle_id=place.id,
        )
        bus = await world.experiment(s, g, "Bus passes", started_at=MON + timedelta(days=1))
        damp = await world.experiment(
            s,
            g,
            "Damp letters",
            started_at=MON - timedelta(weeks=3),
            status="concluded",
            verdict="stronger",
            concluded_at=MON + timedelta(days=3),
            hypothesis="A joint letter gets repairs done.",
            learned="Letters from the tenant and us together got repairs started.",
        )
        adopted = await world.experiment(
            s,
            g,
            "Cardiogram first (adopted)",
            started_at=MON - timedelta(weeks=1),
            adopted_from_id=original.id,
        )
        ids.update(
            cardio=cardio.id,
            bus=bus.id,
            damp=damp.id,
            adopted=adopted.id,
            original=original.id,
            door=door.id,
            place=place.id,
            north=north.id,
        )

        at = MON + timedelta(hours=10)
        for i, text in enumerate(CARDIOGRAM):
            c = await world.checkin(
                s,
                cardio,
                people[i],
                text,
                at=at + timedelta(hours=i),
                surprise=95 if i == 0 else 40,
                named=(i == 0),
                confidence=30,
            )
            ids[f"cardio{i}"] = c.id
        for i, text in enumerate(TRANSPORT):
            await world.checkin(s, bus, people[i], text, at=at + timedelta(days=1, hours=i))
        for i, text in enumerate(HOUSING):
            await world.checkin(
                s, damp, people[i], text, at=at + timedelta(days=2, hours=i), confidence=80
            )
        await world.checkin(
            s, adopted, bea, "The trace convinced the family again.", at=at, confidence=75
        )
        await world.checkin(
            s,
            cardio,
            ada,
            f"{CANARIES[0]} my private doubt about the nurse.",
            at=at,
            visibility="private",
            surprise=100,
        )
        await world.checkin(
            s,
            cardio,
            bea,
            f"{CANARIES[1]} only for facilitators.",
            at=at,
            visibility="facilitators",
            surprise=99,
        )
        await world.checkin(
            s, cardio, ada, "Last week's words stay out.", at=MON - timedelta(hours=1)
        )

        rnd = await world.round_(
            s,
            g,
            opened_at=MON + timedelta(hours=9),
            closes_at=MON + timedelta(days=3),
            closed_at=MON + timedelta(days=3),
            recipients=people,
        )
        await world.response(
            s, rnd, ada, "I tried asking about the bus before the visit.", at=at, surprise=72
        )
        await world.response(
            s,
            rnd,
            bea,
            "I noticed the damp smell in every flat on the estate.",
            at=at,
            prompt_key="noticed",
        )
        await world.response(
            s, rnd, cal, f"{CANARIES[2]} private answer.", at=at, visibility="private"
        )
        alarm = Alarm(
            group_id=g.id,
            rule="stale_checkin",
            subject=f"experiment:{cardio.id}",
            detail="Experiment #1 has had no check-in for 11 days.",
            raised_at=MON + timedelta(days=1),
        )
        s.add(alarm)
        await s.flush()
        ids["alarm"] = alarm.id
        ids["round"] = rnd.id
    return Scene(g, ids)


async def build(deps: Deps, group_id: int, variant: str = "group", week: str = WEEK) -> Digest:
    async with deps.db.begin() as s:
        g = await s.get(Group, group_id)
        assert g is not None
        return await build_digest(deps, s, g, week, variant)


def png_signature(path: str) -> bytes:
    return Path(path).read_bytes()[:8]


def every_text(digest: Digest) -> str:
    return digest.text + json.dumps(digest.content, ensure_ascii=False)


def section(digest: Digest, title: str) -> dict[str, object]:
    found = [s for s in digest.content["sections"] if s["title"] == title]
    assert found, [s["title"] for s in digest.content["sections"]]
    return dict(found[0])


async def shareable_texts(deps: Deps, scene_: Scene) -> list[str]:
    from bot.services.entries import connected_cycles, group_entries

    start, end = week_bounds(WEEK, "UTC")
    async with deps.db.begin() as s:
        own = await group_entries(s, scene_.group.id, start, end)
        links = await connected_cycles(s, scene_.group.id, start, end)
    return [e.entry.text for e in own] + [e.entry.text for x in links for e in x.entries]


async def count(deps: Deps, model: type[Digest] | type[Delivery]) -> int:
    async with deps.db.begin() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())

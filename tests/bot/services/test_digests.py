from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.config import load_settings
from bot.domain import ChannelRef, Platform
from bot.errors import UserError
from bot.services import digests, groups
from bot.services.context import Deps
from bot.store.models import Alarm, Delivery, Digest, Group
from bot.summarise import Entry, Quote, Summary, Theme
from bot.summarise.offline import OfflineSummariser
from tests.support import world
from tests.support.clock import Clock

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

    async def summarise(
        self, entries: Sequence[Entry], *, max_themes: int, max_quotes: int
    ) -> Summary:
        self.seen.extend(entries)
        return await self.inner.summarise(  # type: ignore[attr-defined, no-any-return]
            entries, max_themes=max_themes, max_quotes=max_quotes
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
        return await digests.build_digest(deps, s, g, week, variant)


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

    start, end = digests.week_bounds(WEEK, "UTC")
    async with deps.db.begin() as s:
        own = await group_entries(s, scene_.group.id, start, end)
        links = await connected_cycles(s, scene_.group.id, start, end)
    return [e.entry.text for e in own] + [e.entry.text for x in links for e in x.entries]


def test_weeks_in_the_group_timezone() -> None:
    assert digests.iso_week(datetime(2026, 11, 29, 12, tzinfo=UTC), "UTC") == "2026-W48"
    assert digests.iso_week(datetime(2026, 11, 29, 12, tzinfo=UTC), "Pacific/Auckland") == (
        "2026-W49"
    )
    start, end = digests.week_bounds("2026-W49", "Pacific/Auckland")
    assert start == datetime(2026, 11, 29, 11, tzinfo=UTC)  # Monday 00:00 at UTC+13
    assert end - start == timedelta(days=7)
    assert digests.parse_week("2026w48") == "2026-W48"
    for bad in ("2026-W54", "last week", "2026-48"):
        with pytest.raises(UserError, match="is not a week"):
            digests.parse_week(bad)
    assert digests.weeks_before("2027-W01", 3) == ["2026-W52", "2026-W53", "2027-W01"]


async def test_the_digest_says_what_the_group_learned(deps: Deps, clock: Clock) -> None:
    sc = await scene(deps)
    clock.now = MON + timedelta(days=4, hours=16)
    digest = await build(deps, sc.group.id)
    ids = sc.ids
    assert digest.week == WEEK and digest.variant == "group" and digest.state == "draft"
    titles = [s["title"] for s in digest.content["sections"]]
    assert titles == [
        "Momentum",
        "What we are learning",
        "Surprises and dissonance",
        "Assumptions tested",
        "Replications",
        "Connected cycles",
        "Governance alarms",
        "Questions for next week",
    ]
    head = digest.content["text"]
    assert head.startswith("Weekly digest · Frontline · 2026-W48: 3 experiments running, ")
    assert "1 concluded, 15 check-ins, 75% answered the round." in head

    momentum = section(digest, "Momentum")
    assert momentum["text"] == (
        "• Experiments: 1 started, 3 running, 1 concluded this week.\n"
        "• Check-ins: 15 (13 shared with the group).\n"
        "• Reflection rounds: 3 of 4 people asked answered (75%) across 1 round."
    )
    assert f"round:{ids['round']}" in momentum["source_ids"]
    assert f"experiment:{ids['damp']}" in momentum["source_ids"]

    learning = section(digest, "What we are learning")
    text = str(learning["text"])
    blocks = text.split("\n\n")
    assert len(blocks) == 3
    labels = " ".join(b.split("\n")[0] for b in blocks)
    for key in ("cardiogram", "bus", "damp"):
        assert key in labels, labels
    shared = await shareable_texts(deps, sc)
    quotes = re.findall(r"> “(.+?)” \((.+?)\)", text)
    assert quotes and all(any(q in t for t in shared) for q, _ in quotes)
    authors = {a for _, a in quotes}
    assert all(a == "Ada Lovelace" or re.fullmatch(r"Member [A-Z]+", a) for a in authors)
    for source in learning["source_ids"]:
        assert source in digest.entry_ids

    surprises = str(section(digest, "Surprises and dissonance")["text"])
    first = surprises.split("\n")[0]
    assert first.startswith(f"• 95/100: “{CARDIOGRAM[0]}” (Ada Lovelace)")
    assert f"It challenges #{ids['cardio']} “Cardiogram at the door”" in first
    assert "answering “What did you try this week?”" in surprises

    assumptions = str(section(digest, "Assumptions tested")["text"])
    assert assumptions.startswith(f"• #{ids['damp']} “Damp letters”: hypothesis stronger")
    assert "Learned: Letters from the tenant and us together got repairs started." in assumptions

    replications = str(section(digest, "Replications")["text"])
    assert f"adopted from #{ids['original']} “Cardiogram first” in North team" in replications
    assert "check-ins lean stronger (mean confidence 75)" in replications
    assert "the original concluded stronger. Same way so far." in replications

    connected = section(digest, "Connected cycles")
    assert f"Cycle #{ids['door']} “Front door” (team, under #{ids['place']}" in str(
        connected["text"]
    )
    assert "Neighbours came out to talk" in str(connected["text"])
    assert f"cycle:{ids['door']}" in connected["source_ids"]

    assert f"#{ids['alarm']} no recent check-in" in str(
        section(digest, "Governance alarms")["text"]
    )
    questions = str(section(digest, "Questions for next week")["text"])
    assert f"#{ids['damp']} “Damp letters” came out stronger" in questions

    # Every shareable entry of the week (and the connected cycle's) is recorded, nothing else.
    assert len(digest.entry_ids) == 13 + 2 + 1
    assert f"checkin:{ids['cardio0']}" in digest.entry_ids

    assert digest.chart_path is not None
    assert png_signature(digest.chart_path) == b"\x89PNG\r\n\x1a\n"
    assert digest.content["attachments"] == [digest.chart_path]
    assert Path(digest.chart_path).parent == deps.settings.bot.data_dir / "charts"


async def test_private_and_facilitator_entries_never_reach_the_digest_or_the_model(
    deps: Deps, clock: Clock
) -> None:
    sc = await scene(deps)
    recorder = Recording()
    deps.summariser = recorder
    clock.now = MON + timedelta(days=4)
    built = [await build(deps, sc.group.id, v) for v in ("group", "leader")]
    assert recorder.seen
    given = " ".join(f"{e.text} {e.author}" for e in recorder.seen)
    for canary in CANARIES:
        assert canary not in given
        for digest in built:
            assert canary not in every_text(digest)
    for name in HIDDEN_NAMES:  # never named: only pseudonyms
        assert name not in given
        for digest in built:
            assert name not in every_text(digest)
    assert "Ada Lovelace" in given  # she chose to be named on one entry
    assert all(e.author == "Ada Lovelace" or e.author.startswith("Member ") for e in recorder.seen)


class Failing:
    name = "llm"

    async def summarise(
        self, entries: Sequence[Entry], *, max_themes: int, max_quotes: int
    ) -> Summary:
        raise RuntimeError("the model is down")


class Inventing:
    """Returns one honest quote, one invented, one from an entry it was never given."""

    name = "llm"

    def __init__(self, private_id: str) -> None:
        self.private_id = private_id

    async def summarise(
        self, entries: Sequence[Entry], *, max_themes: int, max_quotes: int
    ) -> Summary:
        real = entries[0]
        quotes = (
            Quote(real.id, real.text[:30], "Somebody Real"),
            Quote(real.id, "Words nobody wrote.", "Member 000000"),
            Quote(self.private_id, "CANARY", "Member 000000"),
        )
        theme = Theme("made up", "A theme.", quotes, (real.id, self.private_id, "checkin:9999"))
        return Summary((theme,), ("What next?",), "llm")


async def test_a_failing_model_falls_back_to_offline(deps: Deps, clock: Clock) -> None:
    sc = await scene(deps)
    deps.summariser = Failing()
    clock.now = MON + timedelta(days=4)
    digest = await build(deps, sc.group.id)
    assert digest.summariser == "offline (fallback)"
    assert len(str(section(digest, "What we are learning")["text"]).split("\n\n")) == 3


async def test_quotes_a_model_invents_are_dropped(deps: Deps, clock: Clock) -> None:
    sc = await scene(deps)
    private_id = f"checkin:{sc.ids['cardio0'] + 100}"
    deps.summariser = Inventing(private_id)
    clock.now = MON + timedelta(days=4)
    digest = await build(deps, sc.group.id)
    learning = section(digest, "What we are learning")
    text = str(learning["text"])
    assert "Words nobody wrote" not in text and "CANARY" not in text
    assert "Somebody Real" not in text
    assert len(re.findall(r"> “", text)) == 1
    assert private_id not in learning["source_ids"] and "checkin:9999" not in str(learning)
    assert digest.summariser == "llm"


async def count(deps: Deps, model: type[Digest] | type[Delivery]) -> int:
    async with deps.db.begin() as s:
        return int((await s.execute(select(func.count()).select_from(model))).scalar_one())


async def test_rebuild_updates_the_draft_and_publishing_twice_posts_once(
    deps: Deps, clock: Clock
) -> None:
    sc = await scene(deps)
    clock.now = MON + timedelta(days=4)
    first = await build(deps, sc.group.id)
    async with deps.db.begin() as s:
        bus = await s.get(Group, sc.group.id)
        ada = await world.member(s, "u1", "Ada Lovelace")
        from bot.store.models import Experiment

        exp = await s.get(Experiment, sc.ids["bus"])
        assert bus is not None and exp is not None
        await world.checkin(s, exp, ada, "One more bus story.", at=clock())
    second = await build(deps, sc.group.id)
    assert second.id == first.id and "16 check-ins" in second.text
    assert await count(deps, Digest) == 1

    for _ in range(2):
        async with deps.db.begin() as s:
            g = await s.get(Group, sc.group.id)
            assert g is not None
            posted, first_time = await digests.publish_week(deps, s, g, WEEK)
    assert posted.state == "posted" and not first_time
    async with deps.db.begin() as s:
        keys = sorted((await s.execute(select(Delivery.key))).scalars())
    assert keys == [
        f"digest:{sc.group.id}:{WEEK}:group:console:learning",
        f"digest:{sc.group.id}:{WEEK}:group:slack:C1",
    ]
    async with deps.db.begin() as s:
        payload = (await s.execute(select(Delivery.payload))).scalars().first()
    assert payload is not None and payload["sections"][0]["title"] == "Momentum"

    async with deps.db.begin() as s:
        exp = await s.get(Experiment, sc.ids["bus"])
        assert exp is not None
        await world.checkin(s, exp, ada, "After posting.", at=clock())
    after = await build(deps, sc.group.id)
    assert after.text == posted.text  # what was posted stays as it was posted


async def test_publish_weekly_is_idempotent_and_reaches_leaders(
    deps: Deps, clock: Clock, tmp_path: Path
) -> None:
    deps.settings = load_settings(
        env={"CYCLES_DATA_DIR": str(tmp_path / "d"), "CYCLES_BOT__LEADERS": "slack:UL"}
    )
    notified: list[int] = []
    deps.notify_outbox = lambda: notified.append(1)
    async with deps.db.begin() as s:
        g = await world.group(s, timezone="Pacific/Auckland")
        lea = await world.member(s, "u9", "Lea", role="leader")
        cfg = await world.member(s, "UL", "Lead", platform=Platform.SLACK, workspace="T1")
        await world.member(s, "u8", "Far", role="leader", workspace="elsewhere")
        e = await world.experiment(s, g, "Doorstep", started_at=MON - timedelta(days=3))
        await world.checkin(s, e, lea, "The door opened quicker.", at=MON + timedelta(days=7))
    clock.now = datetime(2026, 11, 29, 12, tzinfo=UTC)  # Monday 01:00 in Auckland: W49
    digest = await digests.publish_weekly(deps, g.id)
    again = await digests.publish_weekly(deps, g.id)
    assert digest is not None and again is not None
    assert digest.week == "2026-W49" and again.id == digest.id and digest.state == "posted"
    async with deps.db.begin() as s:
        rows = list((await s.execute(select(Delivery).order_by(Delivery.key))).scalars())
    assert [(r.key, r.target_kind) for r in rows] == [
        (f"digest:{g.id}:2026-W49:group:console:learning", "channel"),
        (f"digest:{g.id}:2026-W49:leader:console:dm-u9", "dm"),
        (f"digest:{g.id}:2026-W49:leader:slack:dm-UL", "dm"),
    ]
    assert {r.member_id for r in rows if r.target_kind == "dm"} == {lea.id, cfg.id}
    assert rows[1].payload["text"].startswith("Leader digest · Frontline · 2026-W49")
    assert notified
    assert await digests.publish_weekly(deps, 9999) is None


async def test_the_leader_variant_is_shorter(deps: Deps, clock: Clock) -> None:
    sc = await scene(deps)
    clock.now = MON + timedelta(days=4)
    full = await build(deps, sc.group.id)
    leader = await build(deps, sc.group.id, "leader")
    assert [s["title"] for s in leader.content["sections"]] == [
        "Momentum",
        "Assumptions tested",
        "Insight",
    ]
    assert len(leader.text) < len(full.text) / 2
    insight = str(section(leader, "Insight")["text"])
    assert insight.count("> “") == 3  # one quote per theme
    assert leader.entry_ids == full.entry_ids
    assert await count(deps, Digest) == 2


async def test_an_empty_week_still_makes_a_digest(deps: Deps, tmp_path: Path) -> None:
    deps.settings = load_settings(
        env={"CYCLES_DATA_DIR": str(tmp_path / "d"), "CYCLES_DIGEST__CHARTS": "false"}
    )
    async with deps.db.begin() as s:
        g = await world.group(s)
    digest = await build(deps, g.id)
    assert "No shared check-ins or answers this week" in digest.text
    assert "Reflection rounds: none this week." in digest.text
    assert digest.chart_path is None and digest.entry_ids == []
    assert section(digest, "Questions for next week")["text"] == (
        "• What did we try this week that we have not written down yet?"
    )
    with pytest.raises(UserError, match="variant must be one of"):
        await build(deps, g.id, "everyone")


async def test_surprises_hear_many_voices_first(deps: Deps) -> None:
    async with deps.db.begin() as s:
        g = await world.group(s)
        ada = await world.member(s, "u1", "Ada")
        bea = await world.member(s, "u2", "Bea")
        e = await world.experiment(s, g, "Doorstep", started_at=MON, hypothesis="Doors open")
        for n, surprise in enumerate((99, 98, 97)):
            await world.checkin(
                s, e, ada, f"Ada surprise {n}.", at=MON + timedelta(hours=n), surprise=surprise
            )
        await world.checkin(s, e, bea, "Bea surprise.", at=MON, surprise=70)
        await world.checkin(s, e, bea, "Bea as expected.", at=MON, surprise=59)
    digest = await build(deps, g.id)
    lines = str(section(digest, "Surprises and dissonance")["text"]).split("\n")
    assert [line.split(": ", 1)[1].split("”")[0] for line in lines] == [
        "“Ada surprise 0.",
        "“Bea surprise.",
        "“Ada surprise 1.",
    ]
    assert lines[0].endswith(f"It challenges #{e.id} “Doorstep”: Doors open.")

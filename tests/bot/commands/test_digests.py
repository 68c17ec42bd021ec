from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.commands import Dispatcher
from bot.domain import Role
from bot.services.context import Deps
from bot.store.models import Delivery, Digest, Group
from tests.support import world
from tests.support.chat import actor, dm, say
from tests.support.clock import Clock

DM = dm("u3")
MEM = actor("u3", "Mem")
LEA = actor("u2", "Lea", Role.LEADER)
FAY = actor("u1", "Fay", Role.FACILITATOR)


async def a_week(deps: Deps, clock: Clock) -> int:
    async with deps.db.begin() as s:
        g = await world.group(s)
        ada = await world.member(s, "u9", "Ada")
        e = await world.experiment(s, g, "Doorstep", started_at=clock() - timedelta(days=2))
        await world.checkin(s, e, ada, "The family opened the door quickly.", at=clock())
        await world.checkin(s, e, ada, "CANARY-PRIVATE", at=clock(), visibility="private")
    return g.id


async def deliveries(deps: Deps) -> list[str]:
    async with deps.db.begin() as s:
        return list((await s.execute(select(Delivery.key).order_by(Delivery.key))).scalars())


async def test_preview_is_private_and_posts_nothing(
    bot: Dispatcher, deps: Deps, clock: Clock
) -> None:
    group_id = await a_week(deps, clock)
    refused = await say(bot, MEM, "digest preview")
    assert refused.message.text == "Only a leader can use `digest preview`."
    reply = await say(bot, LEA, "digest preview")
    assert reply.ephemeral
    assert reply.message.text.startswith(
        "Preview of the group digest for 2026-W48, only you can see it. "
        "`digest now` posts it to the group.\n\nWeekly digest · Frontline · 2026-W48"
    )
    assert reply.message.sections[0].title == "Momentum"
    assert reply.message.attachments and reply.message.attachments[0].endswith(".png")
    assert "CANARY" not in str(reply.message)
    leader = await say(bot, FAY, "digest preview leader")
    assert [s.title for s in leader.message.sections] == [
        "Momentum",
        "Assumptions tested",
        "Insight",
        "What changed",
    ]
    assert await deliveries(deps) == []
    async with deps.db.begin() as s:
        states = (await s.execute(select(Digest.variant, Digest.state))).all()
    assert sorted(states) == [("group", "draft"), ("leader", "draft")]
    assert group_id
    bad = await say(bot, LEA, "digest preview everyone")
    assert bad.message.text == "Usage: `digest preview` or `digest preview leader`."
    in_dm = await say(bot, LEA, "digest preview", DM)
    assert in_dm.message.text.startswith("Run this in your group's channel")


async def test_now_publishes_once(bot: Dispatcher, deps: Deps, clock: Clock) -> None:
    group_id = await a_week(deps, clock)
    calls: list[int] = []
    deps.notify_outbox = lambda: calls.append(1)
    for who in (MEM, LEA):
        refused = await say(bot, who, "digest now")
        assert refused.message.text == "Only a facilitator can use `digest now`."
    posted = await say(bot, FAY, "digest now")
    assert posted.message.text == "Posting this week's digest (2026-W48) to 1 channel."
    assert posted.ephemeral and calls
    again = await say(bot, FAY, "digest now")
    assert again.message.text.startswith("This week's digest (2026-W48) was already posted")
    # The channel gets the group digest; Lea, a leader on the platform, gets the leader one.
    assert sorted(await deliveries(deps)) == [
        f"digest:{group_id}:2026-W48:group:console:learning",
        f"digest:{group_id}:2026-W48:leader:console:dm-u2",
    ]
    shown = await say(bot, MEM, "digest show")
    assert shown.message.text.startswith("Weekly digest · Frontline · 2026-W48")
    assert "The family opened the door quickly." in str(shown.message.sections)
    preview = await say(bot, FAY, "digest preview")
    assert preview.message.text.startswith("This week's digest (2026-W48) was already posted")


async def test_show_finds_posted_weeks_only(bot: Dispatcher, deps: Deps, clock: Clock) -> None:
    await a_week(deps, clock)
    assert (await say(bot, MEM, "digest show")).message.text == "No digest has been posted yet."
    await say(bot, LEA, "digest preview")  # a draft is not shown
    assert (await say(bot, MEM, "digest show")).message.text == "No digest has been posted yet."
    await say(bot, FAY, "digest now")
    clock.advance(days=7)
    await say(bot, FAY, "digest now")
    latest = await say(bot, MEM, "digest show")
    assert latest.message.text.startswith("Weekly digest · Frontline · 2026-W49")
    older = await say(bot, MEM, "digest show 2026-w48")
    assert older.message.text.startswith("Weekly digest · Frontline · 2026-W48")
    none = await say(bot, MEM, "digest show 2026-W40")
    assert none.message.text == "No digest was posted for 2026-W40."
    bad = await say(bot, MEM, "digest show yesterday")
    assert bad.message.text == "'yesterday' is not a week. Use an ISO week such as 2026-W48."


async def test_schedule_is_validated_and_stored(bot: Dispatcher, deps: Deps, clock: Clock) -> None:
    group_id = await a_week(deps, clock)
    refused = await say(bot, LEA, "digest schedule 0 16 * * fri")
    assert refused.message.text == "Only a facilitator can use `digest schedule`."
    current = await say(bot, FAY, "digest schedule")
    assert current.message.text.startswith("The digest goes out on `0 16 * * fri` (UTC).")
    four = await say(bot, FAY, "digest schedule 0 16 * *")
    assert four.message.text.startswith("'0 16 * *' is not a five-field cron expression.")
    wrong = await say(bot, FAY, "digest schedule 0 25 * * fri")
    assert wrong.message.text.startswith("'0 25 * * fri' is not a valid schedule (")
    never = await say(bot, FAY, "digest schedule 0 9 31 2 *")
    assert "is not a valid schedule (it never fires" in never.message.text
    often = await say(bot, FAY, "digest schedule */10 16 * * fri")
    assert "(it fires 10 minutes apart; a schedule may fire at most once an hour)" in (
        often.message.text
    )
    long = await say(bot, FAY, "digest schedule " + "0," * 6000 + "0 16 * * fri")
    assert long.message.text.startswith("That schedule is longer than 64 characters.")
    assert len(long.message.text) < 200
    async with deps.db.begin() as s:
        g = await s.get(Group, group_id)
        assert g is not None and g.digest_schedule is None
        g.timezone = "Europe/London"
    ok = await say(bot, FAY, 'digest schedule "30 9 * * mon"')
    assert ok.message.text == (
        "The weekly digest now goes out on `30 9 * * mon` (Europe/London). "
        "Next: Mon 23 Nov 2026 09:30."
    )
    async with deps.db.begin() as s:
        g = await s.get(Group, group_id)
        assert g is not None and g.digest_schedule == "30 9 * * mon"


async def test_unknown_digest_words(bot: Dispatcher) -> None:
    usage = await say(bot, MEM, "digest")
    assert usage.message.text.startswith("Digests: `digest preview [leader]`")
    unknown = await say(bot, MEM, "digest tomorrow")
    assert unknown.message.text.startswith("Unknown digest command 'tomorrow'.")


async def test_sources_of_a_theme_are_asked_for_not_printed(
    bot: Dispatcher, deps: Deps, clock: Clock
) -> None:
    await a_week(deps, clock)
    none_yet = await say(bot, MEM, "digest sources 1")
    assert (
        none_yet.message.text == "No digest with themes yet: `digest preview` builds this week's."
    )
    preview = await say(bot, LEA, "digest preview")
    assert "checkin:" not in str(preview.message.text) + str(
        [s.text for s in preview.message.sections]
    )
    async with deps.db.begin() as s:
        digest = (await s.execute(select(Digest).where(Digest.variant == "group"))).scalar_one()
        [theme] = digest.themes
    reply = await say(bot, MEM, "digest sources 1")
    [entry_id] = theme["entry_ids"]
    assert reply.message.text == (
        f"“{theme['label']}” (2026-W48) draws on 1 entry: {entry_id}. Quoted: {entry_id}."
    )
    by_label = await say(bot, MEM, f"digest sources {theme['label'].upper()}")
    assert by_label.message.text == reply.message.text
    unknown = await say(bot, MEM, "digest sources bicycles")
    assert unknown.message.text.startswith("'bicycles' is not a theme of the 2026-W48 digest.")
    assert "CANARY" not in unknown.message.text
    usage = await say(bot, MEM, "digest sources")
    assert "digest sources <theme>" in usage.message.text

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event, select

from bot.commands import make_dispatcher
from bot.commands.dispatch import Dispatcher
from bot.commands.registry import Args, CommandSpec, Result
from bot.domain import Actor, Form, MemberInfo, Platform, Reply
from bot.services.context import Deps, Invocation
from bot.store.database import Database
from bot.store.models import CheckIn, Member
from tests.support.chat import ADA, BEA, FAY, HERE, channel_with, dm, said


async def test_commands_take_turns(deps: Deps) -> None:
    running = 0
    most = 0
    release = asyncio.Event()

    async def slow(inv: Invocation, args: Args) -> Result:
        nonlocal running, most
        running += 1
        most = max(most, running)
        await release.wait()
        running -= 1
        return Reply.text(f"done {args.positional[0]}")

    spec = CommandSpec(("slow",), "slow <n>", "Waits.", slow)
    dispatcher = Dispatcher(deps, [spec], concurrency=2, stall=30)
    people = [Actor(Platform.CONSOLE, "console", f"u{n}", f"P{n}") for n in range(5)]
    tasks = [
        asyncio.create_task(dispatcher.handle(p, HERE, f"slow {n}")) for n, p in enumerate(people)
    ]
    for _ in range(50):
        await asyncio.sleep(0.01)
        if running == 2:
            break
    await asyncio.sleep(0.05)
    assert running == 2  # the other three wait their turn
    release.set()
    results = await asyncio.gather(*tasks)
    assert most == 2
    assert [r.message.text for r in results if isinstance(r, Reply)] == [
        f"done {n}" for n in range(5)
    ]


async def test_commands_stuck_on_slow_work_do_not_hold_up_the_rest(deps: Deps) -> None:
    release = asyncio.Event()

    async def slow(inv: Invocation, args: Args) -> Result:
        await release.wait()  # a model or a platform that takes its time
        return Reply.text("slow done")

    async def quick(inv: Invocation, args: Args) -> Result:
        return Reply.text("quick done")

    specs = [
        CommandSpec(("slow",), "slow", "Waits.", slow),
        CommandSpec(("quick",), "quick", "Answers.", quick),
    ]
    dispatcher = Dispatcher(deps, specs, concurrency=1, stall=0.2)
    ada = Actor(Platform.CONSOLE, "console", "u1", "Ada")
    bea = Actor(Platform.CONSOLE, "console", "u2", "Bea")
    stuck = asyncio.create_task(dispatcher.handle(ada, HERE, "slow"))
    await asyncio.sleep(0.05)
    answered = await asyncio.wait_for(dispatcher.handle(bea, HERE, "quick"), 5)
    assert isinstance(answered, Reply) and answered.message.text == "quick done"
    assert not stuck.done()
    release.set()
    done = await stuck
    assert isinstance(done, Reply) and done.message.text == "slow done"


async def test_a_command_cancelled_while_waiting_gives_up_its_place(deps: Deps) -> None:
    release = asyncio.Event()

    async def slow(inv: Invocation, args: Args) -> Result:
        await release.wait()
        return Reply.text("done")

    dispatcher = Dispatcher(deps, [CommandSpec(("slow",), "slow", "Waits.", slow)], concurrency=1)
    ada = Actor(Platform.CONSOLE, "console", "u1", "Ada")
    first = asyncio.create_task(dispatcher.handle(ada, HERE, "slow"))
    await asyncio.sleep(0.02)
    gone = asyncio.create_task(dispatcher.handle(ada, HERE, "slow"))
    third = asyncio.create_task(dispatcher.handle(ada, HERE, "slow"))
    await asyncio.sleep(0.02)
    gone.cancel()
    release.set()
    assert [r.message.text for r in await asyncio.gather(first, third)] == ["done", "done"]
    # Nothing is held: the next command runs at once.
    assert (await asyncio.wait_for(dispatcher.handle(ada, HERE, "slow"), 1)).message.text == "done"


@contextmanager
def statements(db: Database) -> Iterator[list[str]]:
    """Every statement the database is sent meanwhile."""
    sent: list[str] = []

    def record(_c: Any, _cur: Any, statement: str, *_rest: Any) -> None:
        sent.append(statement)

    for engine in db.engines:
        event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        for engine in db.engines:
            event.remove(engine.sync_engine, "before_cursor_execute", record)


async def test_a_known_member_costs_one_read_for_who_and_where(deps: Deps) -> None:
    """Who the person is and which group the channel belongs to are read in one statement, so
    that a wave of commands costs a few statements each: a check-in two (who and where; the
    write, which finds the experiment running itself), `round status` two (who and where; the
    open round with its counts)."""
    channel_with(deps, [MemberInfo(p.user_id, p.display_name) for p in (ADA, BEA)])
    bot = make_dispatcher(deps)
    await said(bot, FAY, 'experiment new title="Home visits" hypothesis="h" try="t" expect="e"')
    await said(bot, FAY, "round start")
    checkin = "checkin 1 happened=visit{n} surprise=60 confidence=55"
    await said(bot, ADA, checkin.format(n=0), source_key="k0")
    await said(bot, ADA, "round status")
    with statements(deps.db) as sent:
        saved = await said(bot, ADA, checkin.format(n=1), source_key="k1")
    assert saved.startswith("Saved check-in #2"), saved
    assert len(sent) == 2, sent
    with statements(deps.db) as sent:
        status = await said(bot, ADA, "round status")
    assert "You answered 0 of" in status, status
    assert len(sent) == 2, sent
    with statements(deps.db) as sent:  # a facilitator's also counts the deliveries
        facilitators = await said(bot, FAY, "round status")
    assert "Deliveries:" in facilitators and len(sent) > 2, facilitators
    with statements(deps.db) as sent:  # a replay says so, and stores nothing twice
        again = await said(bot, ADA, checkin.format(n=1), source_key="k1")
    assert again.startswith("Already saved check-in #2"), again
    # Pressing Answer in the round's DM: who and where, the round, whether the person was
    # asked (once), the group's timezone, the answers.
    with statements(deps.db) as sent:
        form = await bot.handle(ADA, dm(ADA), "answer 1")
    assert isinstance(form, Form), form
    assert len(sent) == 5, sent


async def test_a_delivery_that_may_repeat_runs_once_and_a_check_in_claims_nothing(
    deps: Deps,
) -> None:
    """`once`: a command is claimed by its source key before it runs, and a repeat is answered
    with nothing to show. A check-in's write is keyed by the source key itself: it claims
    nothing, and still stores a repeat once."""
    bot = make_dispatcher(deps)
    await said(bot, FAY, 'experiment new title="Home visits" hypothesis="h" try="t" expect="e"')
    first = await bot.handle(ADA, HERE, "help", source_key="d1", once=True)
    assert isinstance(first, Reply) and not first.repeat
    again = await bot.handle(ADA, HERE, "help", source_key="d1", once=True)
    assert isinstance(again, Reply) and again.repeat
    checkin = "checkin 1 happened=visit surprise=60 confidence=55"
    with statements(deps.db) as sent:
        saved = await bot.handle(ADA, HERE, checkin, source_key="d2", once=True)
    assert isinstance(saved, Reply) and saved.message.text.startswith("Saved check-in #1")
    assert len(sent) == 2, sent  # who and where, the insert: no claim
    repeated = await bot.handle(ADA, HERE, checkin, source_key="d2", once=True)
    assert isinstance(repeated, Reply) and repeated.repeat
    assert repeated.message.text.startswith("Already saved check-in #1")
    async with deps.db.begin() as session:
        assert len((await session.execute(select(CheckIn))).all()) == 1


async def test_a_changed_name_is_still_written_when_the_member_is_known(deps: Deps) -> None:
    bot = make_dispatcher(deps)
    await said(bot, ADA, "help")
    renamed = Actor(ADA.platform, ADA.workspace, ADA.user_id, "Ada L.", "Europe/Paris")
    await said(bot, renamed, "help")
    async with deps.db.begin() as session:
        member = (await session.execute(select(Member))).scalar_one()
    assert (member.display_name, member.timezone) == ("Ada L.", "Europe/Paris")

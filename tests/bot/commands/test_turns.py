"""The turn queue with group commit: a command waiting for its write to commit lets the next
one run, so one command's turn holds writes of many; and it takes its turn back after."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands.dispatch import Dispatcher
from bot.commands.registry import Args, CommandSpec, Result
from bot.commands.turns import Turns
from bot.domain import Actor, Platform, Reply
from bot.services.context import Deps, Invocation
from bot.store.groupcommit import GroupCommit
from bot.store.models import AppState
from bot.store.upsert import insert_ignore
from tests.support.chat import HERE


async def test_writes_of_commands_waiting_their_turn_share_a_transaction(deps: Deps) -> None:
    running = 0
    most = 0

    async def save(inv: Invocation, args: Args) -> Result:
        nonlocal running, most
        running += 1
        most = max(most, running)
        key = args.positional[0]

        async def write(session: AsyncSession) -> bool:
            return await insert_ignore(session, AppState, {"key": key, "value": ""}, ["key"])

        running -= 1  # not running while it waits for the commit
        await inv.deps.db.write(write)
        running += 1
        most = max(most, running)
        await asyncio.sleep(0)
        running -= 1
        return Reply.text(f"saved {key}")

    # A window long enough for every command's reads to finish within it, on a slow machine.
    deps.db.group = GroupCommit(deps.db.begin, window=0.5)
    spec = CommandSpec(("save",), "save <k>", "Saves.", save)
    dispatcher = Dispatcher(deps, [spec], concurrency=1)
    people = [Actor(Platform.CONSOLE, "console", f"u{n}", f"P{n}") for n in range(20)]
    # Known members first: creating one is a write of its own.
    await asyncio.gather(*(dispatcher.handle(p, HERE, "help") for p in people))
    before = deps.db.group.transactions
    results = await asyncio.gather(
        *(dispatcher.handle(p, HERE, f"save k{n}") for n, p in enumerate(people))
    )
    assert [r.message.text for r in results if isinstance(r, Reply)] == [
        f"saved k{n}" for n in range(20)
    ]
    assert most == 1  # one turn: never two commands running at once
    # Holding the turn while waiting for the commit, this would be twenty transactions.
    assert deps.db.group.transactions - before <= 2


async def test_aside_outside_a_turn_does_nothing() -> None:
    turns = Turns(1, 30)
    async with turns.aside():
        pass
    async with turns.turn(), turns.aside():
        pass
    async with turns.turn():  # the turn was given back: this does not wait
        pass


async def test_a_command_cancelled_while_aside_does_not_hold_a_turn() -> None:
    turns = Turns(1, 30)
    release = asyncio.Event()
    holding = asyncio.Event()

    async def waits_aside() -> None:
        async with turns.turn(), turns.aside():
            holding.set()
            await release.wait()

    async def keeps_turn() -> None:
        async with turns.turn():
            await release.wait()

    first = asyncio.create_task(waits_aside())
    await holding.wait()
    second = asyncio.create_task(keeps_turn())  # takes the turn given aside
    await asyncio.sleep(0.01)
    first.cancel()  # cancelled while waiting to take its turn back
    await asyncio.sleep(0.01)
    release.set()
    await second
    assert first.cancelled()
    await asyncio.wait_for(_one_turn(turns), 1)  # nothing is left held


async def _one_turn(turns: Turns) -> None:
    async with turns.turn():
        pass

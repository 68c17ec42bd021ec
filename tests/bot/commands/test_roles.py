from __future__ import annotations

import dataclasses

import pytest
from sqlalchemy import select

from bot.commands import Dispatcher, make_dispatcher
from bot.config import load_settings
from bot.domain import Actor, Message, Platform, Role
from bot.services.context import Deps
from bot.store.models import Delivery, Member
from tests.support.chat import ADA, BEA, actor
from tests.support.chat import said as say

ROOT = actor("u0", "Root", Role.ADMIN)


@pytest.fixture
def notified() -> list[int]:
    return []


@pytest.fixture
def bot(deps: Deps, notified: list[int]) -> Dispatcher:
    deps.notify_outbox = lambda: notified.append(1)
    return make_dispatcher(deps)


async def stored_role(deps: Deps, user_id: str) -> str:
    async with deps.db.begin() as s:
        query = select(Member.role).where(Member.user_id == user_id)
        return (await s.execute(query)).scalar_one()


async def test_only_admins_assign_roles(bot: Dispatcher, deps: Deps) -> None:
    await say(bot, BEA, "whoami")
    assert await say(bot, ADA, "role add Bea facilitator") == "Only an admin can use `role add`."
    assert await stored_role(deps, "u2") == "member"


async def test_admin_makes_a_facilitator_who_is_told(
    bot: Dispatcher, deps: Deps, notified: list[int]
) -> None:
    await say(bot, BEA, "whoami")
    assert await say(bot, ROOT, "role add bea facilitator") == "Bea is now a facilitator."
    assert await stored_role(deps, "u2") == "facilitator"
    assert notified == [1]
    async with deps.db.begin() as s:
        [delivery] = (await s.execute(select(Delivery))).scalars()
    assert (delivery.target_kind, delivery.target) == ("dm", "u2")
    assert Message.from_json(delivery.payload).text.startswith("Root made you a facilitator")
    assert await say(bot, BEA, "whoami") == (
        "You are Bea (console:u2); your role is facilitator; it comes from `role add` by an admin."
    )
    assert await say(bot, ROOT, "role add <@u2> facilitator") == "Bea is already a facilitator."
    assert await say(bot, ROOT, "role add u2 leader") == (
        "Bea is a facilitator, which includes everything a leader may do. "
        "`role remove` first to change it."
    )


async def test_remove_a_role(bot: Dispatcher, deps: Deps) -> None:
    await say(bot, BEA, "whoami")
    assert await say(bot, ROOT, "role remove Bea leader") == (
        "Bea was not made a leader with `role add` (their stored role is member). "
        "Roles from the platform or bot.toml are changed there."
    )
    await say(bot, ROOT, "role add Bea leader")
    assert await say(bot, ROOT, "role remove Bea leader") == (
        "Bea is no longer a leader (unless the platform or bot.toml makes them one)."
    )
    assert await stored_role(deps, "u2") == "member"


async def test_bad_role_commands(bot: Dispatcher) -> None:
    await say(bot, BEA, "whoami")
    assert await say(bot, ROOT, "role add Bea admin") == (
        "The role must be facilitator or leader, not 'admin'."
    )
    assert await say(bot, ROOT, "role add Nobody leader") == "No member called 'Nobody' here."
    assert (await say(bot, ROOT, "role add leader")).startswith("Usage: `role add|remove")
    assert (await say(bot, ROOT, "role")).startswith("Usage: `role add|remove")


async def test_whoami_names_where_the_role_comes_from(deps: Deps) -> None:
    settings = load_settings(
        path=None,
        env={
            "CYCLES_DATA_DIR": str(deps.settings.bot.data_dir),
            "CYCLES_BOT__FACILITATORS": "console:u1",
            "CYCLES_BOT__LEADERS": "u2",
        },
    )
    bot = make_dispatcher(dataclasses.replace(deps, settings=settings))
    assert await say(bot, ADA, "whoami") == (
        "You are Ada (console:u1); your role is facilitator; "
        "it comes from the facilitators list in bot.toml."
    )
    assert await say(bot, BEA, "whoami") == (
        "You are Bea (console:u2); your role is leader; it comes from the leaders list in bot.toml."
    )
    assert await say(bot, ROOT, "whoami") == (
        "You are Root (console:u0); your role is admin; it comes from your console permissions."
    )
    plain = Actor(Platform.CONSOLE, "console", "u9", "Nia")
    assert await say(bot, plain, "whoami") == (
        "You are Nia (console:u9); your role is member (everyone starts as one)."
    )

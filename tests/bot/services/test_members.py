from __future__ import annotations

from sqlalchemy import func, select

from bot.domain import Actor, MemberInfo, Platform, Role
from bot.services import members
from bot.store.database import Database
from bot.store.models import Member, Workspace

ADA = Actor(Platform.SLACK, "T1", "U1", "Ada", "Europe/London", platform_role=Role.ADMIN)


async def test_a_known_member_is_found_and_follows_the_platform(db: Database) -> None:
    async with db.begin() as s:
        first = await members.ensure_member(s, ADA)
    renamed = Actor(Platform.SLACK, "T1", "U1", "Ada L", None, platform_role=Role.MEMBER)
    async with db.begin() as s:
        again = await members.ensure_member(s, renamed)
        assert again.id == first.id
        assert (again.display_name, again.timezone, again.platform_role) == (
            "Ada L",
            "Europe/London",  # a timezone the platform stops sending is kept
            "member",
        )
    other_team = Actor(Platform.SLACK, "T2", "U1", "Ada")
    async with db.begin() as s:
        assert (await members.ensure_member(s, other_team)).id != first.id
        assert await s.scalar(select(func.count(Workspace.id))) == 2


async def test_ensure_members_creates_the_unknown_and_keeps_the_order(db: Database) -> None:
    async with db.begin() as s:
        ada = await members.ensure_member(s, ADA)
    infos = [
        MemberInfo("U3", "Cal", "Asia/Tokyo"),
        MemberInfo("U1", "Ada", None),
        MemberInfo("U2", "Bea", None),
        MemberInfo("U3", "Cal", "Asia/Tokyo"),
    ]
    async with db.begin() as s:
        found = await members.ensure_members(s, Platform.SLACK, "T1", infos)
        assert [m.user_id for m in found] == ["U3", "U1", "U2", "U3"]
        assert found[1].id == ada.id and found[0] is found[3]
        assert found[0].timezone == "Asia/Tokyo" and found[0].role == "member"
    async with db.begin() as s:
        again = await members.ensure_members(s, Platform.SLACK, "T1", infos[:3])
        assert [m.id for m in again] == [m.id for m in found[:3]]
        assert await s.scalar(select(func.count(Member.id))) == 3
        assert await members.ensure_members(s, Platform.SLACK, "T1", []) == []


async def test_ensure_members_in_a_big_channel(db: Database) -> None:
    infos = [MemberInfo(f"U{n:04d}", f"Person {n}") for n in range(1200)]
    async with db.begin() as s:
        found = await members.ensure_members(s, Platform.SLACK, "T1", infos)
    assert [m.user_id for m in found] == [i.user_id for i in infos]
    assert len({m.id for m in found}) == 1200


async def test_a_channel_listing_keeps_the_platform_role_a_command_reported(db: Database) -> None:
    admin = Actor(Platform.SLACK, "T1", "U1", "Ada", platform_role=Role.ADMIN)
    async with db.begin() as s:
        await members.ensure_member(s, admin)
    async with db.begin() as s:
        [listed] = await members.ensure_members(s, Platform.SLACK, "T1", [MemberInfo("U1", "Ada")])
        assert listed.platform_role == "admin"

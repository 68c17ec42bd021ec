"""Who is who: roles from Slack, channel members without bots, and few calls for big channels."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings, load_settings
from bot.domain import Role
from bot.errors import UserError
from integrations.slack.identity import Directory
from integrations.slack.web import make_clients
from tests.support.fake_slack import FakeSlack


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    server = await FakeSlack(page_size=10).start()
    server.add_user("UADMIN", "Admin", admin=True, tz="America/Chicago")
    server.add_user("UOWNER", "Owner", owner=True)
    server.add_user("UFAC", "Facilitator")
    server.add_user("UMEM", "Member", tz=None)
    server.usergroups["S1"] = ["UFAC"]
    try:
        yield server
    finally:
        await server.stop()


def directory_for(
    fake: FakeSlack, session: aiohttp.ClientSession, tmp_path: Path, **env: str
) -> Directory:
    settings: Settings = load_settings(
        path=None,
        env={
            "CYCLES_CONFIG": "none",
            "SLACK_BOT_TOKEN": fake.bot_token,
            "SLACK_API_URL": fake.api_url,
            **env,
        },
    )
    reads, _ = make_clients(settings.slack, session)
    return Directory(settings, lambda: reads)


async def test_roles_come_from_slack_and_the_user_group(fake: FakeSlack, tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session:
        people = directory_for(fake, session, tmp_path, CYCLES_SLACK__FACILITATOR_USERGROUP="S1")
        admin = await people.actor("T0001", "UADMIN")
        assert (admin.platform_role, admin.timezone, admin.display_name) == (
            Role.ADMIN,
            "America/Chicago",
            "Admin",
        )
        assert (await people.actor("T0001", "UOWNER")).platform_role is Role.ADMIN
        assert (await people.actor("T0001", "UFAC")).platform_role is Role.FACILITATOR
        member = await people.actor("T0001", "UMEM")
        assert (member.platform_role, member.timezone) == (Role.MEMBER, None)
        # Cached: asking again costs no call.
        calls = len(fake.calls)
        await people.actor("T0001", "UMEM")
        assert len(fake.calls) == calls


async def test_a_wrong_user_group_locks_nobody_out(fake: FakeSlack, tmp_path: Path) -> None:
    async with aiohttp.ClientSession() as session:
        people = directory_for(fake, session, tmp_path, CYCLES_SLACK__FACILITATOR_USERGROUP="S9")
        assert (await people.actor("T0001", "UFAC")).platform_role is Role.MEMBER
        assert (await people.actor("T0001", "UADMIN")).platform_role is Role.ADMIN


async def test_channel_members_are_active_humans_across_pages(
    fake: FakeSlack, tmp_path: Path
) -> None:
    fake.add_user("UBOT", "Bot", bot=True)
    fake.add_user("UGONE", "Gone", deleted=True)
    fake.add_user("USLACKBOT", "Slackbot")
    humans = [f"U{n:03d}" for n in range(23)]
    for user in humans:
        fake.add_user(user, f"Person {user}")
    fake.add_channel("C1", [*humans[:12], "UBOT", "UGONE", "USLACKBOT", *humans[12:]])
    async with aiohttp.ClientSession() as session:
        people = directory_for(fake, session, tmp_path)
        found = await people.channel_members("C1")
    assert [m.user_id for m in found] == humans
    assert found[0].display_name == "Person U000"
    assert found[0].timezone == "Europe/London"
    assert len(fake.calls_to("conversations.members")) == 3  # 26 members, pages of 10


async def test_a_big_channel_is_read_with_users_list(fake: FakeSlack, tmp_path: Path) -> None:
    humans = [f"U{n:04d}" for n in range(120)]
    for user in humans:
        fake.add_user(user, f"Person {user}")
    fake.add_channel("CBIG", humans)
    async with aiohttp.ClientSession() as session:
        people = directory_for(fake, session, tmp_path)
        found = await people.channel_members("CBIG")
    assert len(found) == 120
    assert fake.calls_to("users.info") == []
    assert 1 <= len(fake.calls_to("users.list")) <= 13


async def test_a_channel_the_app_cannot_see_is_a_clear_refusal(
    fake: FakeSlack, tmp_path: Path
) -> None:
    async with aiohttp.ClientSession() as session:
        people = directory_for(fake, session, tmp_path)
        with pytest.raises(UserError, match="Invite the app"):
            await people.channel_members("CNOPE")


async def test_remembered_users_are_bounded(fake: FakeSlack) -> None:
    async with aiohttp.ClientSession() as session:
        settings: Settings = load_settings(
            path=None,
            env={
                "CYCLES_CONFIG": "none",
                "SLACK_BOT_TOKEN": fake.bot_token,
                "SLACK_API_URL": fake.api_url,
            },
        )
        reads, _ = make_clients(settings.slack, session)
        people = Directory(settings, lambda: reads, capacity=2)
        for user_id in ("UADMIN", "UOWNER", "UFAC"):
            assert await people.user(user_id) is not None
        assert len(fake.calls_to("users.info")) == 3
        await people.user("UFAC")  # still remembered
        assert len(fake.calls_to("users.info")) == 3
        await people.user("UADMIN")  # the oldest was forgotten
        assert len(fake.calls_to("users.info")) == 4

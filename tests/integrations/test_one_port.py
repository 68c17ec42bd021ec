"""Slack in HTTP mode and Teams (anonymous) in one App on one port: /slack/events,
/api/messages and the combined /healthz are served by one listener, each platform driven through
its protocol fake; stopping turns both routes and /healthz to 503 before the port closes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.app import App, build_app
from bot.config import load_settings
from integrations.slack.adapter import SlackAdapter
from integrations.teams.adapter import TeamsAdapter
from tests.integrations.slack.conftest import ADMIN, CHANNEL, SECRET, slack_env
from tests.integrations.slack.conftest import seed as seed_slack
from tests.integrations.teams.conftest import PEOPLE, teams_env
from tests.integrations.teams.conftest import seed as seed_teams
from tests.support.fake_connector import FakeConnector, TeamsClient
from tests.support.fake_slack import FakeSlack, SlackDriver


@pytest.fixture
async def fakes() -> AsyncIterator[tuple[FakeSlack, FakeConnector]]:
    slack = await FakeSlack(page_size=10).start()
    teams = await FakeConnector(page_size=10).start()
    seed_slack(slack)
    seed_teams(teams)
    try:
        yield slack, teams
    finally:
        await slack.stop()
        await teams.stop()


async def start(env: dict[str, str]) -> tuple[App, SlackAdapter, TeamsAdapter]:
    app = await build_app(load_settings(path=None, env=env), with_scheduler=False)
    slack, teams = SlackAdapter(app.port), TeamsAdapter(app.port)
    app.add_adapter(slack)
    app.add_adapter(teams)
    await app.start()
    return app, slack, teams


async def get(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, object]]:
    async with session.get(url) as response:
        return response.status, await response.json()


async def test_slack_and_teams_share_one_port(
    fakes: tuple[FakeSlack, FakeConnector], tmp_path: Path
) -> None:
    fake_slack, fake_teams = fakes
    # Port 0 on both: one listener, so one free port for the two of them.
    app, slack, teams = await start({**slack_env(fake_slack, tmp_path), **teams_env(tmp_path)})
    try:
        assert slack.http is not None
        assert slack.http.port == teams.http_port != 0
        url = f"http://127.0.0.1:{teams.http_port}"
        async with aiohttp.ClientSession() as session:
            assert await get(session, url + "/healthz") == (
                200,
                {"ok": True, "platforms": {"slack": "accepting", "teams": "accepting"}},
            )
        async with SlackDriver(fake_slack, url, SECRET) as driver:
            sent = await driver.slash(ADMIN, CHANNEL, "help")
            assert sent.status == 200
            unsigned = await driver.post(
                "{}", "application/json", headers={"X-Slack-Signature": "v0=0"}
            )
            assert unsigned.status == 401
        async with TeamsClient(fake_teams, url) as client:
            assert await client.post(client.personal(PEOPLE[3], "help")) == 202
        for _ in range(200):
            if fake_slack.responses:
                break
            await asyncio.sleep(0.02)
        assert "Learning Cycles commands" in str(fake_slack.responses[0]["text"])
        [answer] = fake_teams.to_person(PEOPLE[3])
        assert "Learning Cycles commands" in answer.text
    finally:
        await app.stop()


async def test_stopping_refuses_on_the_shared_port_then_closes_it(
    fakes: tuple[FakeSlack, FakeConnector], tmp_path: Path
) -> None:
    fake_slack, fake_teams = fakes
    app, slack, teams = await start({**slack_env(fake_slack, tmp_path), **teams_env(tmp_path)})
    url = f"http://127.0.0.1:{teams.http_port}"
    try:
        await teams.stop()  # one platform stopping is enough for the balancer to move on
        async with aiohttp.ClientSession() as session:
            status, body = await get(session, url + "/healthz")
            assert status == 503
            assert body["platforms"] == {"slack": "accepting", "teams": "stopping"}
        async with TeamsClient(fake_teams, url) as client:
            assert await client.post(client.personal(PEOPLE[3], "help")) == 503
        assert slack.http is not None
        slack.http.refuse()
        async with SlackDriver(fake_slack, url, SECRET) as driver:
            assert (await driver.slash(ADMIN, CHANNEL, "help")).status == 503
    finally:
        await app.stop()
    async with aiohttp.ClientSession() as session:
        with pytest.raises(aiohttp.ClientConnectionError):
            await get(session, url + "/healthz")


async def test_different_ports_get_a_listener_each(
    fakes: tuple[FakeSlack, FakeConnector], tmp_path: Path
) -> None:
    fake_slack, _ = fakes
    env = {**slack_env(fake_slack, tmp_path), **teams_env(tmp_path)}
    env["CYCLES_TEAMS__HTTP_HOST"] = "127.0.0.2"  # another address: another listener
    app, slack, teams = await start(env)
    try:
        assert slack.http is not None
        async with aiohttp.ClientSession() as session:
            for url, only in (
                (f"http://127.0.0.1:{slack.http.port}", "slack"),
                (f"http://127.0.0.2:{teams.http_port}", "teams"),
            ):
                status, body = await get(session, url + "/healthz")
                assert (status, body["platforms"]) == (200, {only: "accepting"})
            async with session.post(f"http://127.0.0.1:{slack.http.port}/api/messages") as r:
                assert r.status == 404
    finally:
        await app.stop()

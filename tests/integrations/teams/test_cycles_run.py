"""The issue's "done when": `cycles run` with CYCLES_TEAMS__ALLOW_ANONYMOUS=true serves Teams on
--port, and a client that speaks only the Bot Framework protocol starts a round, answers it from
its card and reads the digest's thread. With --slack-http, Slack's /slack/events is served on the
same port, and /healthz there covers both."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
import time
from pathlib import Path

import aiohttp

from tests.support.fake_connector import TEAM_CHANNEL, FakeConnector, Posted, TeamsClient
from tests.support.fake_slack import FakeSlack, SlackDriver

PEOPLE = ["29:u01", "29:u02", "29:u03"]
SLACK_SECRET = "test-signing-secret"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def until(done: object, within: float = 30.0) -> None:
    deadline = time.monotonic() + within
    while not done():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out waiting for the bot"
        await asyncio.sleep(0.1)


async def test_cycles_run_serves_teams_and_slack_on_one_port(tmp_path: Path) -> None:
    fake = await FakeConnector().start()
    fake.add_team(TEAM_CHANNEL, PEOPLE)
    slack = await FakeSlack().start()
    slack.add_user("U01", "Ada")
    slack.add_channel("C1", ["U01"])
    port = free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "DISCORD_"))},
        "SLACK_BOT_TOKEN": slack.bot_token,
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "SLACK_API_URL": slack.api_url,
        "CYCLES_SLACK__HTTP_HOST": "127.0.0.1",
        "CYCLES_CONFIG": "none",
        "CYCLES_DATA_DIR": str(tmp_path),
        "CYCLES_TEAMS__ALLOW_ANONYMOUS": "true",
        "CYCLES_TEAMS__HTTP_HOST": "127.0.0.1",
        "CYCLES_OPS__ENABLED": "false",
        "CYCLES_BOT__FACILITATORS": "teams:29:u01",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--slack-http",
        "--port",
        str(port),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            health: dict[str, object] = {}

            async def healthy() -> bool:
                nonlocal health
                try:
                    async with session.get(f"{url}/healthz") as r:
                        health = await r.json()
                        return r.status == 200
                except aiohttp.ClientError:
                    return False

            deadline = time.monotonic() + 60
            while not await healthy():
                assert process.returncode is None, "cycles run exited"
                assert time.monotonic() < deadline, "cycles run did not serve /healthz"
                await asyncio.sleep(0.2)
            assert health["platforms"] == {"slack": "accepting", "teams": "accepting"}

        async with SlackDriver(slack, url, SLACK_SECRET) as driver:
            assert (await driver.slash("U01", "C1", "help")).status == 200
            await until(lambda: bool(slack.responses))
            assert "Learning Cycles commands" in str(slack.responses[0]["text"])

        async with TeamsClient(fake, url) as client:
            start = client.in_channel("29:u01", "round start weekly-reflection for 2d")
            assert await client.post(start) == 202
            await until(lambda: all(fake.to_person(p) for p in PEOPLE))
            prompt = fake.to_person("29:u02")[0]
            assert await client.post(client.submit("29:u02", prompt, prompt.actions[0]["data"]))
            form = fake.find(prompt.id)
            data = {"tried": "A walking meeting", **form.actions[0]["data"]}
            assert await client.post(client.submit("29:u02", form, data)) == 202
            assert "Saved your answers" in fake.find(prompt.id).text

            assert await client.post(client.in_channel("29:u01", "digest now")) == 202

            def roots() -> list[Posted]:
                return [p for p in fake.in_channel(TEAM_CHANNEL) if p.thread_root == p.id]

            def digest_thread() -> list[Posted]:
                found = [r for r in roots() if "igest" in r.text]
                if not found:
                    return []
                return [
                    p
                    for p in fake.posts
                    if p.conversation == found[0].conversation and p.id != found[0].id
                ]

            await until(lambda: len(digest_thread()) >= 2)
    finally:
        process.terminate()
        _, stderr = await asyncio.wait_for(process.communicate(), 30)
        await fake.stop()
        await slack.stop()
    assert process.returncode == 0, stderr.decode()[-2000:]
    assert b"anonymous mode" in stderr
    assert b"Traceback" not in stderr

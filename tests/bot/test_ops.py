from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import build_app
from bot.config import Settings, load_settings
from bot.domain import ChannelRef, Message, Platform
from bot.ops import OpsServer
from bot.services import outbox
from tests.support.adapter import RecordingAdapter


def ops_settings(tmp_path: Path) -> Settings:
    """A SQLite file in `tmp_path`, and the ops server on a free loopback port."""
    return load_settings(
        path=None,
        env={
            "CYCLES_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ops.sqlite3'}",
            "CYCLES_DATA_DIR": str(tmp_path),
            "CYCLES_OPS__HOST": "127.0.0.1",
            "CYCLES_OPS__PORT": "0",
        },
    )


async def get(url: str) -> tuple[int, str, Any]:
    async with aiohttp.ClientSession() as http, http.get(url) as response:
        body = await response.text()
        data = await response.json() if response.content_type == "application/json" else None
        return response.status, body, data


async def test_healthz_follows_the_lifecycle_and_metrics_read_the_database(
    tmp_path: Path,
) -> None:
    settings = ops_settings(tmp_path)
    adapter = RecordingAdapter(platform=Platform.SLACK)  # no Slack adapter: rows stay pending
    app = await build_app(settings, with_scheduler=False)
    ops = OpsServer(app, settings.ops)
    await ops.start()
    base = f"http://127.0.0.1:{ops.port}"
    try:
        status, _, data = await get(f"{base}/healthz")
        assert (status, data["state"], data["ok"]) == (503, "created", False)

        app.add_adapter(RecordingAdapter())
        await app.start()
        status, _, data = await get(f"{base}/healthz")
        assert status == 200
        assert data == {"ok": True, "state": "running", "scheduler": "off", "database": "ok"}

        async with app.deps.db.begin() as s:
            for n in range(2):
                to = ChannelRef(adapter.platform, "T1", f"U{n}", dm_user=f"U{n}")
                await outbox.enqueue(s, key=f"k:{n}", to=to, message=Message("hi"))
        status, body, _ = await get(f"{base}/metrics")
        assert status == 200
        assert 'cycles_outbox_depth{state="pending"} 2.0' in body
        assert 'cycles_digests_posted{variant="group"} 0.0' in body
        assert "cycles_scheduler_leader 0.0" in body
        assert "# TYPE cycles_ack_seconds histogram" in body

        await app.stop()
        status, _, data = await get(f"{base}/healthz")
        assert (status, data["state"], data["database"]) == (503, "stopped", "closed")
        status, body, _ = await get(f"{base}/metrics")  # still answers, with the last counts
        assert status == 200
        assert 'cycles_outbox_depth{state="pending"} 2.0' in body
    finally:
        await app.stop()
        await ops.close()


async def test_metrics_of_two_apps_never_mix(tmp_path: Path) -> None:
    apps = []
    for name in ("a", "b"):
        settings = load_settings(
            path=None,
            env={
                "CYCLES_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / name}.sqlite3",
                "CYCLES_DATA_DIR": str(tmp_path / name),
            },
        )
        apps.append(await build_app(settings, with_scheduler=False))
    try:
        apps[0].metrics.observe_ack("slack", 0.2)
        assert 'cycles_ack_seconds_count{platform="slack"} 1.0' in apps[0].metrics.render().decode()
        assert "slack" not in apps[1].metrics.render().decode()
    finally:
        for app in apps:
            await app.stop()


async def test_a_taken_ops_port_is_reported_and_the_bot_runs_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from bot.app import _start_ops

    settings = load_settings(
        path=None,
        env={
            "CYCLES_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'ops.sqlite3'}",
            "CYCLES_DATA_DIR": str(tmp_path),
            "CYCLES_OPS__HOST": "127.0.0.1",
        },
    )
    app = await build_app(settings, with_scheduler=False)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ops = OpsServer(app, settings.ops.model_copy(update={"port": port}))
        assert await _start_ops(ops) is None
    await app.stop()
    assert f"cannot listen on 127.0.0.1:{port}" in caplog.text
    assert "CYCLES_OPS__PORT" in caplog.text


async def test_ops_servers_sharing_a_port_both_bind_it(tmp_path: Path) -> None:
    """bot.share_ports covers the ops port too: replicas on one machine all start it."""
    settings = ops_settings(tmp_path)
    app = await build_app(settings, with_scheduler=False)
    first = OpsServer(app, settings.ops, share=True)
    await first.start()
    second = OpsServer(app, settings.ops.model_copy(update={"port": first.port}), share=True)
    try:
        await second.start()
        assert second.port == first.port
        status, _, data = await get(f"http://127.0.0.1:{first.port}/healthz")
        assert status == 503 and data["state"] == "created"
    finally:
        await second.close()
        await first.close()
        await app.stop()

from __future__ import annotations

import asyncio
import importlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app import PLATFORMS, App, MeteredDispatcher, build_app, platform_adapters
from bot.config import Settings, load_settings
from bot.domain import Actor, ChannelRef, Message, Platform, Reply
from bot.services import outbox
from bot.store.models import Delivery
from tests.conftest import PG_URL, empty_database
from tests.support.adapter import RecordingAdapter
from tests.support.chat import CHANNEL

needs_postgres = pytest.mark.skipif(not PG_URL, reason="CYCLES_TEST_POSTGRES_URL is not set")
ADA = Actor(Platform.CONSOLE, "console", "U1", "Ada")


def app_settings(url: str, tmp_path: Path, **env: str) -> Settings:
    return load_settings(
        path=None,
        env={
            "CYCLES_DATABASE_URL": url,
            "CYCLES_DATA_DIR": str(tmp_path / "data"),
            "CYCLES_SCHEDULER__TAKEOVER_SECONDS": "0.2",
            **env,
        },
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "postgresql" and not PG_URL:
        pytest.skip("CYCLES_TEST_POSTGRES_URL is not set")
    with empty_database(request.param, tmp_path) as made:
        yield made


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.02)


@dataclass
class Gate(RecordingAdapter):
    """Each send waits until the test opens the gate."""

    opened: asyncio.Event = field(default_factory=asyncio.Event)
    waiting: int = 0

    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        self.waiting += 1
        await self.opened.wait()
        return await super().send(to, message, key=key)


async def queue(app: App, count: int) -> None:
    async with app.deps.db.begin() as s:
        for n in range(count):
            to = ChannelRef(Platform.CONSOLE, "console", f"U{n}", dm_user=f"U{n}")
            await outbox.enqueue(s, key=f"k:{n}", to=to, message=Message("hi"))
    app.deps.notify_outbox()


async def states(app: App) -> dict[str, str]:
    async with app.deps.db.begin() as s:
        return {d.key: d.state for d in (await s.execute(select(Delivery))).scalars()}


async def test_a_graceful_stop_finishes_the_send_under_way_and_hands_back_the_rest(
    url: str, tmp_path: Path
) -> None:
    gate = Gate()
    app = await build_app(app_settings(url, tmp_path), adapters=[gate])
    await app.start()
    await queue(app, 5)
    await until(lambda: gate.waiting == 1)  # the worker claimed all five, sends the first
    assert set((await states(app)).values()) == {"sending"}
    stopping = asyncio.create_task(app.stop())
    await asyncio.sleep(0.1)
    assert not stopping.done()  # it waits for the send under way
    gate.opened.set()
    await stopping
    assert app.state == "stopped"
    assert len(gate.sent) == 1

    # A new process finds the other four due at once: nothing waits for a lease to run out.
    again = await build_app(app_settings(url, tmp_path), adapters=[gate], with_scheduler=False)
    try:
        left = await states(again)
        assert sorted(left.values()) == ["pending"] * 4 + ["sent"]
        assert await again.drain_outbox() == 4
    finally:
        await again.stop()
    assert sorted(s.key for s in gate.sent) == [f"k:{n}" for n in range(5)]


async def test_the_outbox_worker_sends_on_notice_and_counts_deliveries(
    url: str, tmp_path: Path
) -> None:
    adapter = RecordingAdapter()
    app = await build_app(app_settings(url, tmp_path), adapters=[adapter], with_scheduler=False)
    await app.start()
    try:
        await queue(app, 3)
        await until(lambda: len(adapter.sent) == 3)
    finally:
        await app.stop()
    assert app.metrics.deliveries.labels("console", "sent")._value.get() == 3
    assert app.scheduler_role == "off"


async def test_the_scheduler_runs_on_the_one_process_on_sqlite(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'one.sqlite3'}"
    app = await build_app(app_settings(url, tmp_path), adapters=[RecordingAdapter()])
    await app.start()
    try:
        await until(lambda: app.scheduler is not None)
        assert app.scheduler_role == "leader"
        assert app.scheduler is not None
        assert {"rounds-close", "rounds-remind", "alarms", "schedules"} <= {
            job.id for job in app.scheduler.jobs()
        }
    finally:
        await app.stop()
    assert app.scheduler is None


@needs_postgres
async def test_two_replicas_run_one_scheduler_and_hand_it_over(tmp_path: Path) -> None:
    with empty_database("postgresql", tmp_path) as url:
        first = await build_app(app_settings(url, tmp_path), adapters=[RecordingAdapter()])
        second = await build_app(app_settings(url, tmp_path), adapters=[RecordingAdapter()])
        await first.start()
        await until(lambda: first.scheduler_role == "leader")
        await second.start()
        try:
            await asyncio.sleep(0.6)
            assert (first.scheduler_role, second.scheduler_role) == ("leader", "standby")
            assert second.scheduler is None
            await first.stop()
            await until(lambda: second.scheduler is not None, within=5)
            assert second.metrics.scheduler_leader._value.get() == 1
        finally:
            await first.stop()
            await second.stop()


async def test_commands_are_counted_by_platform_and_result(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'm.sqlite3'}"
    app = await build_app(app_settings(url, tmp_path), with_scheduler=False)
    try:
        assert isinstance(app.dispatcher, MeteredDispatcher)
        await app.dispatcher.handle(ADA, CHANNEL, "help")
        await app.dispatcher.handle(ADA, CHANNEL, "cycle new")  # opens a form
        text = app.metrics.render().decode()
    finally:
        await app.stop()
    assert 'cycles_events_handled_total{platform="console",result="reply"} 1.0' in text
    assert 'cycles_events_handled_total{platform="console",result="form"} 1.0' in text
    assert 'cycles_handle_seconds_count{platform="console"} 2.0' in text


async def test_adapters_get_the_port_and_every_platform_entry_names_a_factory(
    tmp_path: Path,
) -> None:
    for target in PLATFORMS.values():
        module, _, factory = target.partition(":")
        assert callable(getattr(importlib.import_module(module), factory))
    url = f"sqlite+aiosqlite:///{tmp_path / 'p.sqlite3'}"
    app = await build_app(app_settings(url, tmp_path), with_scheduler=False)
    try:
        assert platform_adapters(app) == []  # no platform credentials in these settings
        result = await app.port.handle(ADA, CHANNEL, "help")
        assert isinstance(result, Reply) and "help" in result.message.text
        assert [c.name for c in app.port.commands][:1] == ["help"]
        text = app.metrics.render().decode()
    finally:
        await app.stop()
    assert 'cycles_events_handled_total{platform="console",result="reply"} 1.0' in text

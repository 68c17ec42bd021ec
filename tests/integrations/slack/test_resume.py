"""A delivery retried after its sender died: Slack already has the message (tagged with the
outbox key in its metadata), so the retry records it instead of posting it twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from pydantic import SecretStr
from sqlalchemy import select, update

from bot.config import SlackSettings
from bot.domain import ChannelRef, Message, Platform
from bot.services import outbox
from bot.store.models import Delivery
from integrations.slack.delivery import METADATA_EVENT, Sender
from integrations.slack.web import make_clients
from tests.integrations.slack.conftest import Bot
from tests.support.fake_slack import FakeSlack

DM_U1 = ChannelRef(Platform.SLACK, "T0001", "U1", dm_user="U1")
C1 = ChannelRef(Platform.SLACK, "T0001", "C1")


@pytest.fixture
async def sender() -> AsyncIterator[tuple[FakeSlack, Sender]]:
    fake = await FakeSlack().start()
    fake.add_user("U1", "Ana")
    fake.add_channel("C1", ["U1"])
    config = SlackSettings(
        bot_token=SecretStr(fake.bot_token),
        api_url=fake.api_url,
        send_rate_per_second=1000,
        send_burst=1000,
    )
    async with aiohttp.ClientSession() as session:
        _, sends = make_clients(config, session)
        yield fake, Sender(config, lambda: sends)
    await fake.stop()


async def test_messages_carry_their_key_and_can_be_found_by_it(
    sender: tuple[FakeSlack, Sender],
) -> None:
    fake, out = sender
    posted = await out.send(DM_U1, Message("hello"), key="round:1:prompt:7")
    await out.send(DM_U1, Message("other"), key="round:1:prompt:8")
    first = fake.dms_to("U1")[0]
    assert first.metadata == {
        "event_type": METADATA_EVENT,
        "event_payload": {"key": "round:1:prompt:7"},
    }
    assert await out.find_sent(DM_U1, "round:1:prompt:7") == posted
    assert await out.find_sent(DM_U1, "round:1:prompt:9") is None
    assert await out.find_sent(C1, "round:1:prompt:7") is None


async def test_a_conversation_the_bot_cannot_read_is_posted_to_again(
    sender: tuple[FakeSlack, Sender],
) -> None:
    fake, out = sender
    await out.send(C1, Message("summary"), key="round:1:summary")
    fake.unreadable.add("C1")  # no channels:history scope
    assert await out.find_sent(C1, "round:1:summary") is None


async def test_the_outbox_records_a_message_slack_already_has(bot: Bot) -> None:
    to = ChannelRef(Platform.SLACK, bot.fake.team, "U02", dm_user="U02")
    async with bot.app.deps.db.begin() as s:
        await outbox.enqueue(s, key="round:9:prompt:2", to=to, message=Message("hello"))
    assert await bot.app.drain_outbox() == 1
    async with bot.app.deps.db.begin() as s:
        first_id = (await s.execute(select(Delivery.platform_message_id))).scalar_one()
        # As if the process had died after Slack took the message, before the row said so.
        await s.execute(
            update(Delivery).values(
                state="sending",
                next_attempt_at=datetime.now(UTC) - timedelta(seconds=1),
                platform_message_id=None,
                sent_at=None,
            )
        )
    assert await bot.app.drain_outbox() == 1
    async with bot.app.deps.db.begin() as s:
        row = (await s.execute(select(Delivery))).scalar_one()
    assert (row.state, row.platform_message_id, row.attempts) == ("sent", first_id, 1)
    assert len(bot.fake.dms_to("U02")) == 1
    found = bot.app.metrics.deliveries.labels("slack", "found")._value.get()
    assert found == 1

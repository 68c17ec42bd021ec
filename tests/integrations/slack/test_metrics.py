"""What the Slack adapter reports to the App's metrics."""

from __future__ import annotations

from tests.integrations.slack.conftest import ADMIN, CHANNEL, Bot


async def test_each_acknowledged_request_is_timed(bot: Bot) -> None:
    before = bot.app.metrics.render().decode()
    assert 'cycles_ack_seconds_count{platform="slack"}' not in before
    sent = await bot.driver.slash(ADMIN, CHANNEL, "help")
    assert sent.status == 200
    await bot.until(lambda: bool(bot.fake.responses), drain=False)
    text = bot.app.metrics.render().decode()
    assert 'cycles_ack_seconds_count{platform="slack"} 1.0' in text
    assert 'cycles_ack_seconds_bucket{le="3.0",platform="slack"} 1.0' in text
    assert 'cycles_events_handled_total{platform="slack",result="reply"} 1.0' in text

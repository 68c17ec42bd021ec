from __future__ import annotations

from tests.integrations.discord.conftest import StartBot
from tests.support.fake_discord import FakeDiscord


async def test_connects_and_answers_help(fake: FakeDiscord, start_bot: StartBot) -> None:
    guild = fake.add_guild(members=3)
    channel = fake.add_channel(guild, "learning")
    await start_bot()
    assert fake.identifies
    iid = await fake.slash(guild, channel, fake.humans(guild)[1], "help")
    await fake.answered(iid)
    print(fake.answer_text(iid))
    assert "round status" in fake.answer_text(iid)

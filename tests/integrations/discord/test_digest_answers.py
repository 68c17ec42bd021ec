"""Members answer a digest's themes on Discord: persistent buttons under the themes in the
digest's thread, a modal for "We see it differently", one answer per member and theme."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.models import DigestResponse
from tests.integrations.discord.conftest import StartBot
from tests.integrations.discord.helpers import custom_ids, modal_of, run, settle
from tests.integrations.discord.test_scenarios import _answered_round, world
from tests.support.fake_discord import FakeDiscord


async def test_theme_buttons_in_the_thread_answer_once_and_differ_opens_a_modal(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild, channel, _ = world(fake, members=6)
    app = await start_bot()
    facilitator = await _answered_round(fake, app, guild, channel)
    before = len(fake.posts(channel))
    await run(fake, guild, channel, facilitator, "digest now")
    await settle(app)
    [parent] = fake.posts(channel)[before:]
    assert not custom_ids(parent)  # the answers sit in the thread, under the themes
    thread_id = int(parent["id"])
    [asking] = [m for m in fake.thread_of(thread_id) if custom_ids(m)]
    assert asking["embeds"][-1]["title"] == "Does this match what you see?"
    ids = custom_ids(asking)
    assert ids[0] == f"cy:c:{guild.id}:digest respond {ids[0].split()[-2]} agree"
    assert ids[0].split()[-2].endswith(".1") and ids[1].endswith(".1 differ")

    member = next(u for u in fake.humans(guild) if u != facilitator)
    # The fake knows threads only as message lists, so clicks come from the parent channel;
    # the command reads the digest from the button, not from where it was pressed.
    where = channel
    for expected in ("Noted: theme 1", "Already noted: theme 1"):
        click = await fake.click(ids[0], member, where, guild, message=asking)
        await fake.answered(click)
        assert fake.answer_text(click).startswith(expected)

    click = await fake.click(ids[1], member, where, guild, message=asking)
    modal = await modal_of(fake, click, member, where, guild)
    assert modal["title"] == "We see it differently"
    inputs = {cid: "Not in the north." for cid in custom_ids(modal) if cid.endswith(":t:text")}
    submitted = await fake.submit(modal["custom_id"], inputs, member, where, guild)
    await fake.answered(submitted)
    assert "you see theme 1" in fake.answer_text(submitted)

    async with app.deps.db.begin() as s:
        rows = list((await s.execute(select(DigestResponse))).scalars())
    assert [(r.theme, r.stance, r.text) for r in rows] == [(1, "differ", "Not in the north.")]

"""Forms, buttons, roles and autocomplete on Discord, through the fake and the real client."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.store.models import Experiment
from integrations.discord import interactions
from tests.integrations.discord.conftest import StartBot
from tests.integrations.discord.helpers import (
    answer_round,
    custom_ids,
    is_ephemeral,
    make_facilitator,
    modal_of,
    run,
    settle,
)
from tests.support.fake_discord import FakeDiscord


def inputs(modal: dict[str, object], **values: str) -> dict[str, str]:
    return {
        cid: values.get(cid.rsplit(":t:", 1)[-1], "")
        for cid in custom_ids(modal)  # type: ignore[arg-type]
        if ":t:" in cid
    }


async def test_field_errors_say_which_field_and_the_form_reopens_filled(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=2)
    channel = fake.add_channel(guild, "learning")
    ada = fake.humans(guild)[1]
    app = await start_bot()
    iid = await fake.slash(guild, channel, ada, "experiment new")
    modal = await modal_of(fake, iid, ada, channel, guild)
    typed = {"title": "Cardiogram first", "hypothesis": "h", "try": "t", "expect": "e"}
    sent = await fake.submit(
        str(modal["custom_id"]), inputs(modal, **typed, cycle="abc"), ada, channel, guild
    )
    await fake.answered(sent)
    text = fake.answer_text(sent)
    assert text.startswith("Not saved. Please fix:\n• **Learning cycle id** (cycle): 'abc'")
    assert is_ephemeral(fake, sent)
    [fix] = [c for m in fake.answers(sent) for c in custom_ids(m)]
    again = await fake.click(fix, ada, channel, guild)
    reopened = await modal_of(fake, again, ada, channel, guild)
    defaults = {
        c["custom_id"].rsplit(":t:", 1)[-1]: c.get("value")
        for row in reopened["components"]  # type: ignore[attr-defined]
        for c in row["components"]
    }
    assert defaults["title"] == "Cardiogram first" and defaults["cycle"] == "abc"
    done = await fake.submit(
        str(reopened["custom_id"]), inputs(reopened, **typed), ada, channel, guild
    )
    await fake.answered(done)
    assert fake.answer_text(done).startswith("Experiment #1 *Cardiogram first* started")
    assert not is_ephemeral(fake, done)  # the new experiment is announced in the channel
    async with app.deps.db.begin() as s:
        assert list((await s.execute(select(Experiment.title))).scalars()) == ["Cardiogram first"]


async def test_two_people_fill_forms_at_once(fake: FakeDiscord, start_bot: StartBot) -> None:
    guild = fake.add_guild(members=3)
    channel = fake.add_channel(guild, "learning")
    ada, bo = fake.humans(guild)[1:3]
    app = await start_bot()
    first_id = await fake.slash(guild, channel, ada, "experiment new")
    first = await modal_of(fake, first_id, ada, channel, guild)
    second_id = await fake.slash(guild, channel, bo, "experiment new")
    second = await modal_of(fake, second_id, bo, channel, guild)
    assert first["custom_id"] != second["custom_id"]
    # Bo cannot submit Ada's form; each submits their own, in the other order.
    stolen = await fake.submit(
        str(first["custom_id"]), inputs(first, title="x"), bo, channel, guild
    )
    await fake.answered(stolen)
    assert "no longer open" in fake.answer_text(stolen)
    for who, modal, title in ((bo, second, "Bo's"), (ada, first, "Ada's")):
        values = inputs(modal, title=title, hypothesis="h", try_="t", expect="e")
        values = {k: ("t" if k.endswith(":t:try") else v) for k, v in values.items()}
        sent = await fake.submit(str(modal["custom_id"]), values, who, channel, guild)
        await fake.answered(sent)
    async with app.deps.db.begin() as s:
        titles = list((await s.execute(select(Experiment.title).order_by(Experiment.id))).scalars())
    assert titles == ["Bo's", "Ada's"]


async def test_answer_button_works_after_a_restart_and_old_forms_say_so(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=3)
    channel = fake.add_channel(guild, "learning")
    fran = fake.humans(guild)[1]
    make_facilitator(fake, guild, fran)
    app = await start_bot()
    await run(fake, guild, channel, fran, "round start")
    await settle(app)
    bo = fake.humans(guild)[2]
    dm = fake.dms(bo)[0]
    half_open = await fake.click(custom_ids(dm)[0], bo, fake.dm_channels[bo], message=dm)
    await fake.answered(half_open)
    page = fake.answers(half_open)[-1]
    await app.stop()
    await start_bot()  # a new process: no memory of buttons or forms
    stale = await fake.click(custom_ids(page)[-1], bo, fake.dm_channels[bo])
    await fake.answered(stale)
    assert "no longer open" in fake.answer_text(stale)
    reply = await answer_round(fake, bo, {"tried": "Walking rounds"})
    assert "saved" in reply.lower(), reply
    status = await run(fake, guild, channel, fran, "round status")
    assert "Answered: 1 of 4 members" in fake.answer_text(status)


async def test_roles_from_discord(fake: FakeDiscord, start_bot: StartBot) -> None:
    guild = fake.add_guild(members=4)
    channel = fake.add_channel(guild, "learning")
    owner, steward, lead, plain = fake.humans(guild)[:4]
    make_facilitator(fake, guild, steward)  # Manage Server
    leaders = fake.add_role(guild, "Leaders")
    fake.member(guild, lead)["roles"].append(str(leaders))
    await start_bot(CYCLES_DISCORD__LEADER_ROLES=str(leaders))
    said = {}
    for who in (owner, steward, lead, plain):
        said[who] = fake.answer_text(await run(fake, guild, channel, who, "whoami"))
    assert "your role is admin" in said[owner]
    assert "your role is facilitator; it comes from your discord permissions" in said[steward]
    assert "your role is leader" in said[lead]
    assert "your role is member" in said[plain]


async def test_facilitator_roles_by_name(fake: FakeDiscord, start_bot: StartBot) -> None:
    guild = fake.add_guild(members=2)
    channel = fake.add_channel(guild, "learning")
    who = fake.humans(guild)[1]
    role = fake.add_role(guild, "Learning Facilitators")
    fake.member(guild, who)["roles"].append(str(role))
    await start_bot(CYCLES_DISCORD__FACILITATOR_ROLES="learning facilitators")
    said = fake.answer_text(await run(fake, guild, channel, who, "whoami"))
    assert "your role is facilitator" in said


async def test_autocomplete_offers_experiments_by_title(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=2)
    channel = fake.add_channel(guild, "learning")
    ada = fake.humans(guild)[1]
    await start_bot()
    for title in ("Cardiogram first", "Home visits"):
        values = {"title": title, "hypothesis": "h", "try": "t", "expect": "e"}
        await run(fake, guild, channel, ada, "experiment new", values)
    iid = await fake.autocomplete(guild, channel, ada, "experiment show", "experiment", "card")
    await fake.answered(iid)
    callback = fake.callbacks[iid]
    assert callback["type"] == 8
    assert callback["data"]["choices"] == [{"name": "#1 Cardiogram first (running)", "value": 1}]
    show = await run(fake, guild, channel, ada, "experiment show", {"experiment": 1})
    assert fake.answer_text(show).startswith("Experiment #1 *Cardiogram first*")


async def test_slow_work_is_deferred_then_followed_up(
    fake: FakeDiscord, start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(interactions, "ACK_SECONDS", 0.0)  # as if every command were slow
    guild = fake.add_guild(members=2)
    channel = fake.add_channel(guild, "learning")
    ada = fake.humans(guild)[1]
    await start_bot()
    private = await run(fake, guild, channel, ada, "whoami")
    assert fake.callbacks[private] == {"type": 5, "data": {"flags": 64}}  # thinking, privately
    assert "your role is member" in fake.answer_text(private) and is_ephemeral(fake, private)
    values = {"name": "Frailty", "question": "Why?", "scale": "team"}
    public = await run(fake, guild, channel, ada, "cycle new", values)
    assert fake.answer_text(public).startswith("Cycle #1 *Frailty*")
    assert not is_ephemeral(fake, public)  # the private placeholder gave way to a post
    assert fake.requests("DELETE", f"/token-{public}/messages/@original")
    form = await fake.slash(guild, channel, ada, "experiment new")
    modal = await modal_of(fake, form, ada, channel, guild)  # behind an "Open the form" button
    assert modal["title"] == "New experiment"


async def test_acknowledgement_latency_is_in_metrics(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    """Like Slack's: one observation per interaction, when its first response was taken."""
    guild = fake.add_guild(members=2)
    channel = fake.add_channel(guild, "learning")
    ada = fake.humans(guild)[1]
    app = await start_bot()
    before = app.metrics.render().decode()
    assert 'cycles_ack_seconds_count{platform="discord"}' not in before
    await run(fake, guild, channel, ada, "help")
    await run(fake, guild, channel, ada, "whoami")
    text = app.metrics.render().decode()
    assert 'cycles_ack_seconds_count{platform="discord"} 2.0' in text
    assert 'cycles_ack_seconds_bucket{le="3.0",platform="discord"} 2.0' in text

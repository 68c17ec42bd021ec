"""A facilitator writes a round template with a choice question on Discord (selects first,
then the text in several modals), starts a round with it, and a member answers the choice
from a Discord select."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.store.models import Response
from tests.integrations.discord.conftest import StartBot
from tests.integrations.discord.helpers import custom_ids, make_facilitator, run, settle, walk
from tests.support.fake_discord import FakeDiscord

TEMPLATE = {
    "name": "Retro",
    "key": "retro",
    "q1": "What did we try?",
    "q2": "Which part of the system did this touch?",
    "q2_kind": "choice",
    "q2_options": "Intake | Triage | Follow-up",
    "visibility": "group",
}


async def fill(
    fake: FakeDiscord, user: int, channel: int, iid: int, values: dict[str, str]
) -> tuple[int, list[dict[str, Any]]]:
    """Walk a form from the interaction that opened it: choose the selects named in `values`,
    fill every modal, press on. Returns the last interaction and the select pages seen."""
    pages: list[dict[str, Any]] = []
    while True:
        await fake.answered(iid)
        callback = fake.callbacks[iid]
        if callback["type"] == 9:  # a modal
            modal = callback["data"]
            inputs = {
                cid: values.get(cid.rsplit(":t:", 1)[-1], "")
                for cid in custom_ids(modal)
                if ":t:" in cid
            }
            iid = await fake.submit(modal["custom_id"], inputs, user, channel)
            continue
        page = fake.answers(iid)[-1]
        ids = custom_ids(page)
        go = [cid for cid in ids if ":go:" in cid]
        if not go:
            return iid, pages
        pages.append(page)
        for cid in ids:
            name = cid.rsplit(":s:", 1)[-1] if ":s:" in cid else None
            if name and name in values:
                chose = await fake.choose(cid, [values[name]], user, channel)
                await fake.answered(chose)
        iid = await fake.click(go[0], user, channel)


def selects(pages: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Each select on the pages: its field name -> its option values."""
    out = {}
    for page in pages:
        for c in walk(page.get("components") or []):
            if c.get("type") == 3:
                out[c["custom_id"].rsplit(":s:", 1)[-1]] = [o["value"] for o in c["options"]]
    return out


async def test_a_template_with_a_choice_is_written_and_answered_on_discord(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild = fake.add_guild(members=2)
    channel = fake.add_channel(guild, "learning")
    facilitator, member = fake.humans(guild)[1], fake.humans(guild)[2]
    make_facilitator(fake, guild, facilitator)
    app = await start_bot()

    opened = await fake.slash(guild, channel, facilitator, "round template-new")
    done, pages = await fill(fake, facilitator, channel, opened, TEMPLATE)
    # The kinds and the default visibility are selects, four to a page.
    assert selects(pages)["q2_kind"] == ["text", "choice", "dyad"]
    assert set(selects(pages)) == {"visibility", *(f"q{n}_kind" for n in range(1, 6))}
    assert "Saved *Retro* (`retro`): 1 free-text question, 1 choice" in fake.answer_text(done)

    # Starting a round, the template's autocomplete offers the group's own beside the shipped.
    typed = await fake.autocomplete(guild, channel, facilitator, "round start", "template", "r")
    await fake.answered(typed)
    offered = [c["value"] for c in fake.callbacks[typed]["data"]["choices"]]
    assert "retro" in offered and "weekly-reflection" in offered, offered
    elsewhere = fake.add_channel(guild, "elsewhere")  # no group yet: the shipped ones only
    typed = await fake.autocomplete(guild, elsewhere, facilitator, "round start", "template", "r")
    await fake.answered(typed)
    assert "retro" not in [c["value"] for c in fake.callbacks[typed]["data"]["choices"]]

    started = await run(fake, guild, channel, facilitator, "round start", {"template": "retro"})
    assert "*Retro* has started" in fake.answer_text(started)
    await settle(app)
    dm = fake.dms(member)[-1]
    assert "(one of: Intake / Triage / Follow-up)" in dm["content"]
    [button] = [cid for cid in custom_ids(dm) if "answer" in cid]
    click = await fake.click(button, member, fake.dm_channels[member], message=dm)
    done, pages = await fill(
        fake, member, fake.dm_channels[member], click, {"q1": "a pilot", "q2": "Triage"}
    )
    assert selects(pages)["q2"] == ["Intake", "Triage", "Follow-up"]
    assert "Saved your answers to round #1" in fake.answer_text(done)
    async with app.deps.db.begin() as s:
        rows = (await s.execute(select(Response.prompt_key, Response.kind, Response.text))).all()
    assert sorted(rows) == [("q1", "text", "a pilot"), ("q2", "choice", "Triage")]

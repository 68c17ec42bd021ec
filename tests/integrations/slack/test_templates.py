"""A facilitator writes a round template with a choice question in a Slack modal (static
selects for the kinds), starts a round with it, and members answer the choice from a static
select; the choice counts reach the round summary."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from bot.store.models import Response, Round
from tests.integrations.slack.conftest import ADMIN, CHANNEL, PEOPLE, Bot

START = "round start weekly-reflection for 2d"

TEMPLATE = {
    "name": "Retro",
    "key": "retro",
    "q1": "What did we try?",
    "q2": "Which part of the system did this touch?",
    "q2_kind": "choice",
    "q2_options": "Intake | Triage | Follow-up",
}


def select_options(view: dict[str, object], block_id: str) -> list[str]:
    blocks = view["blocks"]
    assert isinstance(blocks, list)
    block = next(b for b in blocks if b.get("block_id") == block_id)
    assert block["element"]["type"] == "static_select"
    return [o["value"] for o in block["element"]["options"]]


async def test_a_template_with_a_choice_is_written_and_answered_in_slack_modals(bot: Bot) -> None:
    before = len(bot.fake.views)
    sent = await bot.driver.slash(ADMIN, CHANNEL, "round template new")
    assert sent.status == 200
    await bot.until(lambda: len(bot.fake.views) > before, drain=False)
    opened = bot.fake.views[before]
    assert select_options(opened.view, "q2_kind") == ["text", "choice", "dyad"]
    assert select_options(opened.view, "visibility") == ["group", "facilitators", "private"]
    saved = await bot.driver.submit(ADMIN, opened, TEMPLATE)
    body = saved.json()
    assert body["response_action"] == "update", body
    assert "Saved *Retro* (`retro`)" in str(body["view"]["blocks"][0]["text"]["text"])

    sent = await bot.driver.slash(ADMIN, CHANNEL, "round start retro for 2d")
    assert sent.status == 200
    await bot.until(lambda: len(bot.prompt_dms()) == len(PEOPLE))
    for user, part in (("U02", "Triage"), ("U03", "Triage"), ("U04", "Intake")):
        prompt = next(p for p in bot.fake.dms_to(user) if "(round #" in p.text)
        assert "(one of: Intake / Triage / Follow-up)" in prompt.text
        before = len(bot.fake.views)
        await bot.driver.click(user, prompt)
        await bot.until(lambda: len(bot.fake.views) > before, drain=False)  # noqa: B023
        answer = bot.fake.views[before]
        assert select_options(answer.view, "q2") == ["Intake", "Triage", "Follow-up"]
        done = await bot.driver.submit(user, answer, {"q1": f"{user} tried", "q2": part})
        assert done.json()["response_action"] == "update"

    async with bot.app.deps.db.begin() as session:
        rows = (await session.execute(select(Response.prompt_key, Response.text))).all()
    assert sorted(t for k, t in rows if k == "q2") == ["Intake", "Triage", "Triage"]
    sent = await bot.driver.slash(ADMIN, CHANNEL, "round close")
    assert sent.status == 200

    async def summarised() -> bool:
        async with bot.app.deps.db.begin() as session:
            return bool((await session.get_one(Round, 1)).summary)

    for _ in range(200):
        if await summarised():
            break
        await asyncio.sleep(0.05)
    async with bot.app.deps.db.begin() as session:
        summary = (await session.get_one(Round, 1)).summary or ""
    assert "  Triage     ████████████ 2" in summary


async def test_a_group_export_reaches_the_facilitator_as_a_file_in_their_dm(bot: Bot) -> None:
    sent = await bot.driver.slash(ADMIN, CHANNEL, START)
    assert sent.status == 200
    await bot.until(lambda: len(bot.prompt_dms()) == len(PEOPLE))
    before = len(bot.fake.responses)
    sent = await bot.driver.slash(ADMIN, CHANNEL, "export group csv")
    assert sent.status == 200
    await bot.until(lambda: len(bot.fake.responses) > before, drain=False)
    assert bot.fake.responses[before]["response_type"] == "ephemeral"
    assert "on its way to you by direct message" in str(bot.fake.responses[before]["text"])
    await bot.until(lambda: any(u.get("channel") for u in bot.fake.uploads.values()))
    [upload] = [u for u in bot.fake.uploads.values() if u.get("channel")]
    assert upload["channel"] == bot.fake.dm_of[ADMIN]
    assert str(upload["filename"]).endswith(".csv") and upload["bytes"] > 3
    [note] = [p for p in bot.fake.dms_to(ADMIN) if "The export of" in p.text]
    assert "private entries are never in it" in note.text


async def test_a_members_own_export_arrives_as_a_file_in_their_dm(bot: Bot) -> None:
    sent = await bot.driver.slash("U02", CHANNEL, "export")
    assert sent.status == 200
    await bot.until(lambda: any(u.get("channel") for u in bot.fake.uploads.values()))
    [upload] = [u for u in bot.fake.uploads.values() if u.get("channel")]
    assert upload["channel"] == bot.fake.dm_of["U02"]
    assert str(upload["filename"]).endswith(".json") and upload["bytes"] > 2
    [note] = bot.fake.dms_to("U02")
    assert note.text == "The file that goes with my answer:"
    [answer] = [r for r in bot.fake.responses if "Your data, as JSON" in str(r["text"])]
    assert answer["response_type"] == "ephemeral" and "within an hour" in str(answer["text"])

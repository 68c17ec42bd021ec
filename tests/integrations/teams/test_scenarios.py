"""The issue's scenarios through the real app: the composition root, the Teams adapter on the
SDK's CloudAdapter over HTTP, activities from a TeamsClient, and a FakeConnector that records
every call the SDK makes."""

from __future__ import annotations

from sqlalchemy import select

from bot.store.models import Digest, Response
from tests.integrations.teams.conftest import FACILITATOR, PEOPLE, Bot
from tests.support.fake_connector import TEAM_CHANNEL, Posted

START = "round start weekly-reflection for 2d"


async def start_round(bot: Bot) -> None:
    assert await bot.say(FACILITATOR, START) == 202
    await bot.until(lambda: len(bot.prompts()) == len(PEOPLE))


async def test_round_start_reaches_every_member_exactly_once_despite_429s(bot: Bot) -> None:
    bot.fake.throttle.update({PEOPLE[2]: 1, PEOPLE[6]: 2, PEOPLE[18]: 1})
    bot.fake.throttle_roster = 1  # reading the roster is throttled too, once
    await start_round(bot)
    await bot.app.drain_outbox()
    assert bot.prompts() == dict.fromkeys(PEOPLE, 1)
    sends = [c for c in bot.fake.calls if c.status == 429 and "pagedmembers" not in c.path]
    assert len(sends) == 4
    # Every page of the roster was read; the other bot got nothing.
    assert len(bot.fake.calls_to("GET", "/pagedmembers")) == 3 + 1
    assert "28:other-bot" not in bot.fake.opened
    # The facilitator's "has started" went to the channel thread.
    started = [p for p in bot.fake.posts if "has started" in p.text]
    assert len(started) == 1 and started[0].user is None


async def answer_by_card(bot: Bot, user: str, values: dict[str, str]) -> Posted:
    """`user` presses Answer on their prompt card (it turns into the form), fills it, submits.
    Returns the card as it then reads."""
    prompt = next(p for p in bot.fake.to_person(user) if "(round #" in p.activity_text)
    [answer] = prompt.actions
    assert await bot.client.post(bot.client.submit(user, prompt, answer["data"])) == 202
    form = bot.fake.find(prompt.id)
    assert form.inputs, form.card
    [submit] = form.actions
    filled = {i["id"]: i.get("value", "") for i in form.inputs}
    assert (
        await bot.client.post(bot.client.submit(user, form, {**filled, **values, **submit["data"]}))
        == 202
    )
    return bot.fake.find(prompt.id)


async def stored(bot: Bot) -> list[str]:
    async with bot.app.deps.db.begin() as session:
        return sorted((await session.execute(select(Response.text))).scalars())


async def test_three_members_answer_through_the_card_and_one_edits(bot: Bot) -> None:
    await start_round(bot)
    for user in PEOPLE[1:4]:
        card = await answer_by_card(bot, user, {"tried": f"{user} tried a walking meeting"})
        assert card.text.startswith("Saved your answers to round #1"), card.text
        assert [a["title"] for a in card.actions] == ["Edit answers"]
    assert len(await stored(bot)) == 3

    card = await answer_by_card(bot, PEOPLE[2], {"tried": "A standing meeting"})
    assert "saved" in card.text.lower() or "updated" in card.text.lower(), card.text
    answers = await stored(bot)
    assert "A standing meeting" in answers and len(answers) == 3
    # Choice fields are menus, never free text.
    prompt = bot.fake.find(card.id)
    assert (
        await bot.client.post(bot.client.submit(PEOPLE[2], prompt, prompt.actions[0]["data"]))
        == 202
    )
    kinds = {i["id"]: i["type"] for i in bot.fake.find(card.id).inputs}
    assert kinds["visibility"] == "Input.ChoiceSet", kinds


async def test_a_non_facilitator_is_refused_in_their_personal_chat_only(bot: Bot) -> None:
    assert await bot.say(PEOPLE[1], START) == 202
    [refusal] = bot.fake.to_person(PEOPLE[1])
    assert refusal.text == "Only a facilitator can use `round start`."
    assert [p for p in bot.fake.posts if p.user is None] == []
    await bot.app.drain_outbox()
    assert bot.prompts() == {}


async def test_a_bare_command_in_the_personal_chat_is_answered_there(bot: Bot) -> None:
    assert await bot.say_personally(PEOPLE[3], "help") == 202
    [answer] = bot.fake.to_person(PEOPLE[3])
    assert "Learning Cycles commands" in answer.text
    assert answer.conversation == f"a:chat-{PEOPLE[3]}"


async def test_digest_now_posts_one_root_message_and_its_thread(bot: Bot) -> None:
    await start_round(bot)
    await answer_by_card(bot, PEOPLE[1], {"tried": "Pairing on intake calls"})
    await answer_by_card(bot, PEOPLE[2], {"tried": "Asking families first"})
    roots_before = len(bot.fake.calls_to("POST", "/v3/conversations"))
    assert await bot.say(FACILITATOR, "digest now") == 202
    await bot.until(lambda: any(p.thread_root for p in bot.fake.posts if "igest" in p.text))
    await bot.app.drain_outbox()
    async with bot.app.deps.db.begin() as session:
        content = await session.scalar(select(Digest.content))
    assert content is not None
    titles = [str(s["title"]) for s in content["sections"]]
    roots = [
        c
        for c in bot.fake.calls_to("POST", "/v3/conversations")[roots_before:]
        if c.body.get("isGroup")
    ]
    assert len(roots) == 1
    thread = [p for p in bot.fake.in_channel(TEAM_CHANNEL) if p.thread_root and p.user is None]
    shown = "\n".join(p.text for p in thread)
    assert titles and [t for t in titles if t not in shown] == []
    # The chart is an image in the thread.
    images = [e for p in thread for e in p.card.get("body", []) if e["type"] == "Image"]
    assert images and images[0]["url"].startswith("data:image/png;base64,")

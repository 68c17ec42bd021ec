"""The scenarios every adapter must pass, through its driver only (see the package docstring)."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.store.models import Delivery, Digest, Response
from tests.integrations.contract.base import Driver

START = "round start"
REFUSED = "Only a facilitator can use `round start`."


async def stored_answers(driver: Driver) -> list[str]:
    async with driver.app.deps.db.begin() as session:
        return sorted((await session.execute(select(Response.text))).scalars())


async def start_round(driver: Driver) -> None:
    started = await driver.command(driver.people[0], START)
    assert not started.private, started
    assert driver.prompts() == dict.fromkeys(driver.people, 1)


async def test_help_answers_privately(driver: Driver) -> None:
    answer = await driver.command(driver.people[1], "help")
    assert answer.private
    assert "Learning Cycles commands" in answer.text


async def test_a_refusal_is_private_and_sends_nothing(driver: Driver) -> None:
    answer = await driver.command(driver.people[1], START)
    assert answer.private
    assert answer.text == REFUSED
    assert driver.delivered() == 0
    async with driver.app.deps.db.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Delivery)) == 0


async def test_round_fan_out_reaches_each_member_exactly_once(driver: Driver) -> None:
    await start_round(driver)
    # Starting it again is refused while it is open: still one prompt each.
    await driver.command(driver.people[0], START)
    assert driver.prompts() == dict.fromkeys(driver.people, 1)


async def test_an_answer_by_form_is_saved_and_an_edit_replaces_it(driver: Driver) -> None:
    await start_round(driver)
    person = driver.people[2]
    saved = await driver.answer_prompt(person, {"tried": "A walking meeting"})
    assert "saved" in saved.lower(), saved
    assert await stored_answers(driver) == ["A walking meeting"]

    edited = await driver.answer_prompt(person, {"tried": "A standing meeting"})
    assert "updated" in edited.lower() or "saved" in edited.lower(), edited
    assert await stored_answers(driver) == ["A standing meeting"]


async def test_digest_now_posts_one_root_message_with_the_sections_in_its_thread(
    driver: Driver,
) -> None:
    await start_round(driver)
    await driver.answer_prompt(driver.people[1], {"tried": "Pairing on intake calls"})
    await driver.answer_prompt(driver.people[2], {"tried": "Asking families first"})
    before = len(driver.channel_posts())

    answer = await driver.command(driver.people[0], "digest now")
    assert "digest" in answer.text.lower(), answer

    [digest] = driver.channel_posts()[before:]
    async with driver.app.deps.db.begin() as session:
        content = await session.scalar(select(Digest.content))
    assert content is not None
    titles = [str(s["title"]) for s in content["sections"]]
    assert titles
    shown = "\n".join(digest.thread)
    assert [t for t in titles if t not in shown] == []
    assert not [t for t in titles if t in digest.text.split("\n", 1)[0]]

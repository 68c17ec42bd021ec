"""Acting as people on the fake Discord: slash commands, Answer buttons, selects and modals."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import and_, func, or_, select

from bot.app import App
from bot.store.models import Delivery
from tests.support.fake_discord import MANAGE_GUILD, FakeDiscord, FakeGuild

EPHEMERAL = 64


def walk(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every component, rows unwrapped."""
    out: list[dict[str, Any]] = []
    for c in components:
        out.append(c)
        out.extend(walk(c.get("components") or []))
    return out


def custom_ids(message: dict[str, Any]) -> list[str]:
    return [c["custom_id"] for c in walk(message.get("components") or []) if "custom_id" in c]


def is_ephemeral(fake: FakeDiscord, interaction_id: int) -> bool:
    """Whether the last answer the person saw was visible to them only. A deferred answer
    keeps the flags of the deferral; a follow-up carries its own."""
    token = f"token-{interaction_id}"
    callback = fake.callbacks[interaction_id]
    deferred = bool(((callback.get("data") or {}).get("flags") or 0) & EPHEMERAL)
    if fake.followups.get(token):
        return bool((fake.followups[token][-1].get("flags") or 0) & EPHEMERAL)
    return deferred


def make_facilitator(fake: FakeDiscord, guild: FakeGuild, user_id: int) -> None:
    """Give `user_id` a role with Manage Server: Discord's own facilitators."""
    role = fake.add_role(guild, "Stewards", MANAGE_GUILD)
    fake.member(guild, user_id)["roles"].append(str(role))


async def run(
    fake: FakeDiscord,
    guild: FakeGuild,
    channel: int,
    user_id: int,
    path: str,
    values: dict[str, Any] | None = None,
) -> int:
    iid = await fake.slash(guild, channel, user_id, path, values)
    await fake.answered(iid)
    return iid


async def answer_round(
    fake: FakeDiscord,
    user_id: int,
    answers: dict[str, str],
    choices: dict[str, str] | None = None,
) -> str:
    """Press Answer in the latest DM, pick the choices, fill the modal, submit; the reply."""
    dm_channel = fake.dm_channels[user_id]
    dm = fake.dms(user_id)[-1]
    [button] = [cid for cid in custom_ids(dm) if "answer" in cid]
    click = await fake.click(button, user_id, dm_channel, message=dm)
    await fake.answered(click)
    page = fake.answers(click)[-1]  # the selects come first (deferred when the bot was slow)
    for cid in custom_ids(page):
        name = cid.rsplit(":s:", 1)[-1] if ":s:" in cid else None
        if name and choices and name in choices:
            chose = await fake.choose(cid, [choices[name]], user_id, dm_channel)
            await fake.answered(chose)
            assert fake.callbacks[chose]["type"] == 6
    [go] = [cid for cid in custom_ids(page) if ":go:" in cid]
    opened = await fake.click(go, user_id, dm_channel)
    await fake.answered(opened)
    modal = fake.callbacks[opened]
    assert modal["type"] == 9, modal
    inputs = {
        cid: answers.get(cid.rsplit(":t:", 1)[-1], "")
        for cid in custom_ids(modal["data"])
        if ":t:" in cid
    }
    submitted = await fake.submit(modal["data"]["custom_id"], inputs, user_id, dm_channel)
    await fake.answered(submitted)
    return fake.answer_text(submitted)


async def settle(app: App, within: float = 10.0) -> None:
    """Drain the outbox until nothing is being sent and nothing is due (the background worker
    may hold some rows while it sends them)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        await app.drain_outbox()
        now = app.deps.clock()
        busy = or_(
            Delivery.state == "sending",
            and_(
                Delivery.state == "pending",
                or_(Delivery.attempts == 0, Delivery.next_attempt_at <= now),
            ),
        )
        async with app.deps.db.begin() as s:
            left = (await s.execute(select(func.count()).where(busy))).scalar_one()
        if not left:
            return
        assert loop.time() < deadline, f"{left} deliveries still busy"
        await asyncio.sleep(0.01)


async def modal_of(
    fake: FakeDiscord,
    interaction_id: int,
    user_id: int,
    channel: int,
    guild: FakeGuild | None = None,
) -> dict[str, Any]:
    """The modal an interaction opened. When the bot had to defer first (it was slow), the
    modal sits behind an "Open the form" button: press it."""
    await fake.answered(interaction_id)
    callback = fake.callbacks[interaction_id]
    if callback["type"] != 9:
        [go] = [c for m in fake.answers(interaction_id) for c in custom_ids(m) if ":go:" in c]
        interaction_id = await fake.click(go, user_id, channel, guild)
        await fake.answered(interaction_id)
        callback = fake.callbacks[interaction_id]
    assert callback["type"] == 9, callback
    modal: dict[str, Any] = callback["data"]
    return modal

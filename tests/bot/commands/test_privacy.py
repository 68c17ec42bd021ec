from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from bot.commands import Dispatcher
from bot.domain import Button
from bot.services.context import Deps
from bot.store.models import CheckIn, Experiment, Member
from tests.support.chat import ADA, BEA, say

NEW = "experiment new title={title} hypothesis=H try=X expect=E"
CHECKIN = "checkin {id} happened={text} surprise=60 confidence=50 visibility={visibility}"


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


async def _story(bot: Dispatcher) -> None:
    """Ada runs two experiments; Bea checks in on one of them and runs her own."""
    await say(bot, ADA, NEW.format(title="Alone"))
    await say(bot, ADA, NEW.format(title="Shared"))
    await say(bot, BEA, NEW.format(title="Beas"))
    await say(bot, ADA, CHECKIN.format(id=1, text="secret", visibility="private"))
    await say(bot, ADA, CHECKIN.format(id=2, text="mine", visibility="group"))
    await say(bot, BEA, CHECKIN.format(id=2, text="hers", visibility="group"))
    await say(bot, ADA, CHECKIN.format(id=3, text="onbeas", visibility="facilitators"))
    await say(bot, ADA, 'cycle new name=C question="q?" scale=team')


async def test_privacy_explains_who_sees_what(bot: Dispatcher) -> None:
    text = (await say(bot, ADA, "privacy")).message.text
    for words in (
        "*group*",
        "*facilitators*",
        "*private*",
        "anonymous by default",
        "named=yes",
        "never list who did not answer",
        "`export`",
        "`forget-me`",
    ):
        assert words in text


async def test_export_writes_all_your_data_as_json(bot: Dispatcher, deps: Deps) -> None:
    await _story(bot)
    reply = await say(bot, ADA, "export")
    assert reply.ephemeral is True
    assert reply.message.text == (
        "Your data, as JSON: your profile, 3 check-ins, 0 round answers, "
        "2 experiments you own and 1 cycle you created. The bot deletes its copy of the file "
        "within an hour."
    )
    [attachment] = reply.message.attachments
    path = Path(attachment)
    assert path.parent == deps.settings.bot.data_dir / "exports"
    assert path.name == "console-u1-20261123T090000Z.json"
    raw = _read(path)
    data = json.loads(raw)
    assert data["member"]["display_name"] == "Ada"
    assert sorted(c["happened"] for c in data["checkins"]) == ["mine", "onbeas", "secret"]
    assert [e["title"] for e in data["experiments"]] == ["Alone", "Shared"]
    assert [c["name"] for c in data["cycles"]] == ["C"]
    assert data["responses"] == []
    assert "hers" not in raw


async def test_forget_me_asks_first_then_deletes(bot: Dispatcher, deps: Deps) -> None:
    await _story(bot)
    ask = await say(bot, ADA, "forget-me")
    assert ask.message.buttons == (
        Button("Yes, delete all my data", "forget-me confirm", style="danger"),
    )
    assert "3 check-ins" in ask.message.text
    async with deps.db.begin() as s:
        assert len(list((await s.execute(select(CheckIn))).scalars())) == 4  # nothing gone yet

    done = await say(bot, ADA, "forget-me confirm")
    assert done.message.text == (
        "Done. Deleted your profile, 3 check-ins, 0 round answers, 0 queued messages, "
        "0 export files and 1 experiment. Rewritten without your words and name: 0 stored "
        "digests, round summaries and posts. 1 experiment others checked in on stay, without "
        "your name."
    )
    async with deps.db.begin() as s:
        names = set((await s.execute(select(Member.display_name))).scalars())
        assert names == {"Bea"}
        left = {e.title: e.owner_id for e in (await s.execute(select(Experiment))).scalars()}
        assert set(left) == {"Shared", "Beas"}
        assert left["Shared"] is None
        texts = {c.happened for c in (await s.execute(select(CheckIn))).scalars()}
        assert texts == {"hers"}

    shown = (await say(bot, BEA, "experiment show 2")).message.text
    assert "Owner: no owner" in shown and "hers" in shown and "mine" not in shown


async def test_forget_me_confirm_with_nothing_stored(bot: Dispatcher) -> None:
    done = await say(bot, BEA, "forget-me confirm")
    assert done.message.text.startswith("Done. Deleted your profile, 0 check-ins")

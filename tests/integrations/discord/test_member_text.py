"""Member text stays text on Discord: answers with mentions and masked links reach a round
summary and a digest through the real discord.py client and the fake Discord; every send
carries allowed_mentions with nothing to parse, and no mention or masked link is live."""

from __future__ import annotations

import re
from typing import Any

from integrations.common.text import ZWSP
from tests.integrations.discord.conftest import StartBot
from tests.integrations.discord.helpers import answer_round, run, settle
from tests.integrations.discord.test_scenarios import world
from tests.support.fake_discord import Call, FakeDiscord

HOSTILE = (
    "<!channel> <@123456789012345678> @everyone @here <@&role> <@&123456789012345678> "
    "[click](https://evil.example) <https://evil.example|safe>"
)
# What Discord would act on: @everyone/@here, <@…>, <@&…>, <#…>, and [label](url).
LIVE = re.compile(r"@(everyone|here)|<[@#]|\]\s*\(")


def outgoing(fake: FakeDiscord) -> list[tuple[Call, dict[str, Any]]]:
    """(call, message data) for every message the bot sent or edited: channel posts, thread
    posts, interaction callbacks, follow-ups and edits of the original answer."""
    found = []
    for call in fake.calls:
        if call.method not in ("POST", "PATCH") or not isinstance(call.body, dict):
            continue
        path = call.path.strip("/")
        if path.endswith("/callback"):
            data = call.body.get("data")
            if isinstance(data, dict) and ("content" in data or "embeds" in data):
                found.append((call, data))
        elif (path.endswith("/messages") or "/webhooks/" in f"/{path}") and (
            "content" in call.body or "embeds" in call.body
        ):
            found.append((call, call.body))
    return found


def shown(data: dict[str, Any]) -> list[str]:
    texts = [str(data.get("content") or "")]
    for embed in data.get("embeds") or []:
        texts += [str(embed.get("title") or ""), str(embed.get("description") or "")]
        texts.append(str((embed.get("footer") or {}).get("text") or ""))
    return texts


async def test_a_round_summary_and_a_digest_keep_member_text_as_text(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild, channel, facilitator = world(fake, members=5)
    app = await start_bot()
    await run(fake, guild, channel, facilitator, "round start")
    await settle(app)
    people = [u for u in fake.humans(guild) if u != facilitator][:3]
    for n, person in enumerate(people):
        await answer_round(
            fake, person, {"tried": f"{HOSTILE} {n}", "noticed": HOSTILE}, {"surprise": "90"}
        )
    await run(fake, guild, channel, facilitator, "round close")
    await settle(app)
    await run(fake, guild, channel, facilitator, "digest now")
    await settle(app)

    sends = outgoing(fake)
    assert sends
    everything = []
    for call, data in sends:
        assert data.get("allowed_mentions", {}).get("parse") == [], (call.path, data)
        for text in shown(data):
            assert not LIVE.search(text), text
            everything.append(text)
    joined = "\n".join(everything)
    # The member's words reached the posts, shown as written but inert.
    assert f"<{ZWSP}@123456789012345678>" in joined
    assert f"@{ZWSP}everyone" in joined
    assert f"[click]{ZWSP}(https://evil.example)" in joined


async def test_answers_to_commands_keep_member_text_as_text(
    fake: FakeDiscord, start_bot: StartBot
) -> None:
    guild, channel, facilitator = world(fake, members=2)
    await start_bot()
    values = {"name": HOSTILE[:90], "question": HOSTILE, "scale": "team"}
    created = await run(fake, guild, channel, facilitator, "cycle new", values)
    listed = await run(fake, guild, channel, facilitator, "cycle list")
    answers = fake.answers(created) + fake.answers(listed)
    assert "evil.example" in fake.answer_text(created) + fake.answer_text(listed)
    for data in answers:
        for text in shown(data):
            assert not LIVE.search(text), text
    for call, data in outgoing(fake):
        assert data.get("allowed_mentions", {}).get("parse") == [], (call.path, data)

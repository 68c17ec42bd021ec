"""The App Home tab: my open prompts, my experiments, the latest digest of my groups.

The core's `home` read model says what to show (everything in it is either the person's own or
already posted to their group); this module only lays it out as Block Kit."""

from __future__ import annotations

from typing import Any

from bot.domain import Button
from bot.domain.plural import plural
from bot.domain.views import Home
from integrations.common.split import clip
from integrations.slack.render import (
    MAX_SECTION,
    MAX_VIEW_BLOCKS,
    Block,
    button_element,
    mrkdwn,
    plain,
)

EMPTY = "Nothing here yet. Type `/cycles help` in a channel to see what the bot does."


def _section(text: str, button: Button | None = None, index: int = 0) -> Block:
    block: Block = {
        "type": "section",
        "text": {"type": "mrkdwn", "text": clip(mrkdwn(text), MAX_SECTION) or " "},
    }
    if button is not None:
        block["accessory"] = button_element(button, index)
    return block


def _heading(text: str) -> Block:
    return {"type": "header", "text": plain(text, 150)}


def _prompt_blocks(home: Home) -> list[Block]:
    blocks: list[Block] = []
    for index, p in enumerate(home.prompts):
        text = (
            f"*{p.title}* (round #{p.round_id}): you answered {p.answered} of "
            f"{plural(p.questions, 'question')}; open until {p.closes}."
        )
        blocks.append(_section(text, p.button, index))
    return blocks


def _experiment_blocks(home: Home, offset: int) -> list[Block]:
    blocks: list[Block] = []
    for index, e in enumerate(home.experiments):
        text = f"#{e.ident} *{e.title}* ({e.status})"
        button = Button("Check in", f"checkin {e.ident}") if e.status == "running" else None
        blocks.append(_section(text, button, offset + index))
    return blocks


def home_view(home: Home) -> dict[str, Any]:
    blocks: list[Block] = [_heading("Learning Cycles")]
    prompts = _prompt_blocks(home)
    experiments = _experiment_blocks(home, len(prompts))
    digests = [_section(f"*{d.group}*, week {d.week}\n{d.text}") for d in home.digests]
    if not (prompts or experiments or digests):
        blocks.append(_section(EMPTY))
    for title, part in (
        ("Your open prompts", prompts),
        ("Your experiments", experiments),
        ("Latest digest of your groups", digests),
    ):
        if part:
            blocks.extend([{"type": "divider"}, _heading(title), *part])
    return {"type": "home", "blocks": blocks[:MAX_VIEW_BLOCKS]}

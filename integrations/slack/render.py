"""Reply, Message and Form -> Block Kit, within Slack's limits; submitted modal state -> values.

Limits (Slack's): 50 blocks a message, 100 a modal or Home tab, 3,000 characters a section,
25 elements an actions block, 75 characters a button label, 2,000 a button value, 24 a modal
title, 3,000 of private metadata."""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from typing import Any

from bot.domain import Button, ChannelRef, Form, FormField, Message, Platform, Reply, Section
from integrations.common.split import clip, split_text
from integrations.common.text import slack_mrkdwn, slack_plain

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION = 3000
MAX_ACTIONS = 25
MAX_LABEL = 75
MAX_VALUE = 2000
MAX_TITLE = 24
MAX_INPUT = 3000
MAX_OPTIONS = 100
MAX_FALLBACK = 3000
FORM_CALLBACK = "cycles_form"
ACTION_PREFIX = "cycles:"
ACTION_PATTERN = re.compile(r"^cycles:\d+$")


def plain(text: str, limit: int = MAX_SECTION) -> dict[str, Any]:
    return {"type": "plain_text", "text": clip(text, limit) or " ", "emoji": True}


def mrkdwn(text: str) -> str:
    """Core text -> Slack mrkdwn, with nothing a member wrote turned into a mention or a link
    (see integrations.common.text)."""
    return slack_mrkdwn(text)


def fallback(text: str, limit: int = MAX_FALLBACK) -> str:
    """A post's `text` field: Slack parses it for mentions too, so it is escaped as well."""
    return clip(slack_plain(text), limit) or " "


def text_blocks(text: str) -> list[Block]:
    """Section blocks of escaped mrkdwn, each within the 3,000-character limit."""
    converted = mrkdwn(text)
    return [
        {"type": "section", "text": {"type": "mrkdwn", "text": piece or " "}}
        for piece in split_text(converted, MAX_SECTION)
    ]


def button_element(button: Button, index: int) -> Block:
    element: Block = {
        "type": "button",
        "action_id": f"{ACTION_PREFIX}{index}",
        "text": plain(button.label, MAX_LABEL),
        "value": button.command[:MAX_VALUE],
    }
    if button.style != "default":
        element["style"] = button.style
    return element


def button_blocks(buttons: tuple[Button, ...]) -> list[Block]:
    blocks: list[Block] = []
    for start in range(0, len(buttons), MAX_ACTIONS):
        chunk = buttons[start : start + MAX_ACTIONS]
        elements = [button_element(b, start + i) for i, b in enumerate(chunk)]
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def section_blocks(section: Section) -> list[Block]:
    """A section as its own message body: the title in bold, the text, then its buttons (a
    digest theme's answers). Its source ids stay with the stored digest (`digest sources`), out
    of the reader's way."""
    return text_blocks(f"**{section.title}**\n{section.text}") + button_blocks(section.buttons)


@dataclass(frozen=True)
class Post:
    """One chat.postMessage: fallback text (notifications) and blocks."""

    text: str
    blocks: list[Block]


def _chunks(blocks: list[Block], limit: int = MAX_BLOCKS) -> list[list[Block]]:
    return [blocks[i : i + limit] for i in range(0, len(blocks), limit)] or [[]]


def _post(blocks: list[Block], text: str) -> Post:
    return Post(fallback(text), blocks)


def message_posts(message: Message) -> tuple[list[Post], list[Post]]:
    """(head, replies): the head's first post is the parent; everything else goes in its thread.

    The headline and buttons make the parent (more than 50 blocks spill into the thread); each
    section is one reply, split again if it is too long for one message."""
    head_blocks = text_blocks(message.text) + button_blocks(message.buttons)
    head = [_post(chunk, message.text) for chunk in _chunks(head_blocks)]
    replies: list[Post] = []
    for section in message.sections:
        for chunk in _chunks(section_blocks(section)):
            replies.append(_post(chunk, f"{section.title}: {section.text}"))
    return head, replies


def reply_payloads(reply: Reply, *, max_payloads: int = 5) -> list[dict[str, Any]]:
    """A command's answer as `respond` payloads. Sections go inline (a response cannot start a
    thread); a response URL takes five posts, so anything beyond is cut with a note."""
    message = reply.message
    blocks = text_blocks(message.text)
    for section in message.sections:
        blocks.extend(section_blocks(section))
    blocks.extend(button_blocks(message.buttons))
    chunks = _chunks(blocks)
    if len(chunks) > max_payloads:
        chunks = chunks[:max_payloads]
        chunks[-1] = [*chunks[-1][: MAX_BLOCKS - 1], *text_blocks("(The rest was cut: too long.)")]
    kind = "ephemeral" if reply.ephemeral else "in_channel"
    return [
        {"response_type": kind, "text": fallback(message.text), "blocks": chunk} for chunk in chunks
    ]


# --- modals -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FormContext:
    """What a modal carries in private_metadata: where it was opened, what it runs, and the
    message ("channel:ts") whose button opened it, if any."""

    channel: ChannelRef
    command: str
    origin: str | None = None

    def dump(self) -> str:
        data = {
            "ws": self.channel.workspace,
            "ch": self.channel.channel,
            "dm": self.channel.dm_user,
            "cmd": self.command,
            "src": self.origin,
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def load(cls, raw: str) -> FormContext:
        data = json.loads(raw)
        channel = ChannelRef(Platform.SLACK, data["ws"], data["ch"], dm_user=data.get("dm"))
        return cls(channel, data["cmd"], data.get("src"))


def _element(f: FormField, value: str | None) -> Block:
    element: Block
    if f.kind == "select":
        options = [{"text": plain(o, MAX_LABEL), "value": o[:150]} for o in f.options[:MAX_OPTIONS]]
        element = {"type": "static_select", "options": options}
        chosen = [o for o in options if value is not None and o["value"] == value]
        if chosen:
            element["initial_option"] = chosen[0]
    elif f.kind == "number":
        element = {"type": "number_input", "is_decimal_allowed": False}
        if value is not None and value.strip().lstrip("-").isdigit():
            element["initial_value"] = value.strip()
    else:
        element = {
            "type": "plain_text_input",
            "multiline": f.kind == "long_text",
            "max_length": min(f.max_length, MAX_INPUT),
        }
        if value:
            element["initial_value"] = value[:MAX_INPUT]
    element["action_id"] = "value"
    return element


def field_block(f: FormField, value: str | None) -> Block:
    block: Block = {
        "type": "input",
        "block_id": f.name,
        "optional": not f.required,
        "label": plain(f.label, 2000),
        "element": _element(f, value),
    }
    if f.hint:
        block["hint"] = plain(f.hint, 2000)
    return block


def modal(form: Form, context: FormContext) -> dict[str, Any]:
    """A form as a modal; submitting it runs `form.command` with the values."""
    blocks: list[Block] = text_blocks(form.intro) if form.intro else []
    blocks.extend(field_block(f, form.values.get(f.name)) for f in form.fields)
    return {
        "type": "modal",
        "callback_id": FORM_CALLBACK,
        "title": plain(form.title, MAX_TITLE),
        "submit": plain(form.submit_label, MAX_TITLE),
        "close": plain("Cancel", MAX_TITLE),
        "private_metadata": context.dump(),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def result_view(title: str, reply: Reply) -> dict[str, Any]:
    """What a modal turns into after a submit: the command's answer, and a Close button."""
    blocks = text_blocks(reply.message.text)
    for section in reply.message.sections:
        blocks.extend(section_blocks(section))
    return {
        "type": "modal",
        "title": plain(title, MAX_TITLE),
        "close": plain("Close", MAX_TITLE),
        "blocks": blocks[:MAX_VIEW_BLOCKS],
    }


def form_values(view: dict[str, Any]) -> dict[str, str]:
    """Submitted modal state -> {field: text}; an empty optional field is ''."""
    values: dict[str, str] = {}
    state = view.get("state", {}).get("values", {})
    for block_id, actions in state.items():
        action: dict[str, Any] = actions.get("value") or next(iter(actions.values()), {})
        kind = action.get("type")
        if kind == "static_select":
            selected = action.get("selected_option") or {}
            values[block_id] = str(selected.get("value") or "")
        else:
            raw = action.get("value")
            values[block_id] = "" if raw is None else str(raw)
    return values


def missing_fields(form: Form, values: dict[str, str]) -> dict[str, str]:
    """Required fields left blank in a submission, as inline errors."""
    return {
        f.name: "This is required."
        for f in form.fields
        if f.required and f.name in values and not values[f.name].strip()
    }


def field_errors(form_fields: list[str], errors: dict[str, str]) -> dict[str, str]:
    """Errors keyed by the modal's block ids; one about no shown field goes on the first."""
    shown: dict[str, str] = {}
    for name, message in errors.items():
        target = name if name in form_fields else (form_fields[0] if form_fields else name)
        text = message if target == name else f"{name}: {message}"
        shown[target] = clip(f"{shown[target]} {text}" if target in shown else text, 2000)
    return shown


def reopen_command(form: Form) -> str:
    """The form's command with what was already filled in, for a button that reopens it."""
    parts = [form.command]
    parts.extend(f"{name}={shlex.quote(value)}" for name, value in form.values.items() if value)
    command = " ".join(parts)
    return command if len(command) <= MAX_VALUE else form.command

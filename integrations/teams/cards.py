"""Reply, Message and Form -> Adaptive Cards; a submitted card's values -> a command and fields.

Everything the bot posts on Teams is an Adaptive Card: a TextBlock never renders HTML, so member
text escaped once (integrations.common.text.teams) cannot become a link or a mention. Buttons
and forms are `Action.Submit`: Teams sends back a message activity whose `value` holds the
card's inputs merged with the action's `data`, which says what to run."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.domain import Button, Form, FormField, Message, Reply, Section
from integrations.common.split import clip, split_text
from integrations.common.text import teams

Card = dict[str, Any]
Element = dict[str, Any]

CARD_TYPE = "application/vnd.microsoft.card.adaptive"
SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
# Teams shows Adaptive Cards up to schema 1.5 on every client.
VERSION = "1.5"
# Keys of an Action.Submit's data: a button's command, or the command a form runs.
BUTTON_KEY = "cycles"
FORM_KEY = "cycles_form"
# The channel a form was asked for in: it is answered in the personal chat, but runs there.
CHANNEL_KEY = "cycles_channel"
# Teams refuses a message over about 28 KB; text is cut well inside it.
MAX_TEXT = 4000
MAX_CARD_TEXT = 20000
MAX_LABEL = 80
MAX_CHOICES = 100
MAX_IMAGE_BYTES = 1_000_000


def _card(body: list[Element], actions: list[Element] | None = None) -> Card:
    card: Card = {"type": "AdaptiveCard", "$schema": SCHEMA, "version": VERSION, "body": body}
    if actions:
        card["actions"] = actions
    return card


def text_blocks(text: str, **style: Any) -> list[Element]:
    """Escaped text as wrapping TextBlocks, each within MAX_TEXT."""
    escaped = teams(clip(text, MAX_CARD_TEXT))
    return [
        {"type": "TextBlock", "text": piece or " ", "wrap": True, **style}
        for piece in split_text(escaped, MAX_TEXT)
    ]


def button_action(button: Button) -> Element:
    action: Element = {
        "type": "Action.Submit",
        "title": clip(button.label, MAX_LABEL),
        "data": {BUTTON_KEY: button.command},
    }
    if button.style == "primary":
        action["style"] = "positive"
    elif button.style == "danger":
        action["style"] = "destructive"
    return action


def message_card(message: Message) -> Card:
    """The headline and buttons of a message (its sections go as replies, see `section_card`)."""
    return _card(text_blocks(message.text), [button_action(b) for b in message.buttons])


def section_card(section: Section) -> Card:
    body = text_blocks(section.title, weight="Bolder", size="Medium")
    return _card(body + text_blocks(section.text))


def reply_card(reply: Reply) -> Card:
    """A reply with its sections inside the same card (a reply is one activity)."""
    message = reply.message
    body = text_blocks(message.text)
    for section in message.sections:
        body += text_blocks(section.title, weight="Bolder", separator=True)
        body += text_blocks(section.text)
    if reply.errors:
        problems = "\n".join(f"- {name}: {text}" for name, text in reply.errors.items())
        body += text_blocks(problems, color="Attention")
    return _card(body, [button_action(b) for b in message.buttons])


def _input(field: FormField, value: str | None) -> Element:
    label = clip(field.label, MAX_LABEL)
    element: Element
    if field.kind == "select":
        # Every choice field (visibility, named, the dyads, …) is a ChoiceSet, never free text.
        element = {
            "type": "Input.ChoiceSet",
            "style": "compact",
            "choices": [
                {"title": clip(teams(o), MAX_LABEL), "value": o}
                for o in field.options[:MAX_CHOICES]
            ],
        }
    elif field.kind == "number":
        element = {"type": "Input.Number"}
    else:
        element = {"type": "Input.Text", "maxLength": field.max_length}
        if field.kind == "long_text":
            element["isMultiline"] = True
    element.update({"id": field.name, "label": label, "isRequired": field.required})
    if field.required:
        element["errorMessage"] = f"{label} is required."
    if field.hint:
        element["placeholder"] = clip(field.hint, MAX_LABEL)
    if value:
        element["value"] = value
    return element


def form_card(form: Form, errors: dict[str, str] | None = None, channel: str = "") -> Card:
    """A form with its inputs inline, filled with what was entered (or saved) so far; a wrong
    value is shown under its field, and nothing typed is lost."""
    errors = errors or {}
    body = text_blocks(form.title, weight="Bolder", size="Medium")
    if form.intro:
        body += text_blocks(form.intro)
    for field in form.fields:
        body.append(_input(field, form.values.get(field.name, field.initial)))
        if field.name in errors:
            body += text_blocks(errors[field.name], color="Attention", spacing="None")
    unknown = [text for name, text in errors.items() if name not in {f.name for f in form.fields}]
    if unknown:
        body += text_blocks("\n".join(unknown), color="Attention")
    data = {FORM_KEY: form.command, **({CHANNEL_KEY: channel} if channel else {})}
    submit = {
        "type": "Action.Submit",
        "title": clip(form.submit_label, MAX_LABEL),
        "style": "positive",
        "data": data,
    }
    return _card(body, [submit])


def image_card(path: Path) -> Card | None:
    """A chart inline (a data URI: the bot has no public file host); None when it is missing
    or too large for a message."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    if len(data) > MAX_IMAGE_BYTES:
        return None
    uri = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    alt = path.stem.replace("-", " ").replace("_", " ")
    return _card([{"type": "Image", "url": uri, "altText": alt, "size": "Stretch"}])


def attachment(card: Card) -> dict[str, Any]:
    return {"contentType": CARD_TYPE, "content": card}


@dataclass(frozen=True)
class Submitted:
    """What a card sent back: the command to run, the form's fields (None for a button), and
    the channel the form was asked for in (empty: where it was submitted)."""

    command: str
    fields: dict[str, str] | None
    channel: str = ""


def submitted(value: object) -> Submitted | None:
    """A card submission's `value`, or None when it is not one of ours."""
    if not isinstance(value, dict):
        return None
    form = value.get(FORM_KEY)
    if isinstance(form, str) and form.strip():
        fields = {
            str(k): _as_text(v)
            for k, v in value.items()
            if k not in (FORM_KEY, BUTTON_KEY, CHANNEL_KEY) and v is not None
        }
        channel = value.get(CHANNEL_KEY)
        return Submitted(form.strip(), fields, channel if isinstance(channel, str) else "")
    button = value.get(BUTTON_KEY)
    if isinstance(button, str) and button.strip():
        return Submitted(button.strip(), None)
    return None


def _as_text(value: object) -> str:
    # Input.Number and toggles may come back as numbers or booleans.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)

"""Neutral replies, messages and forms. The core returns these; each adapter renders them.

All text here is plain text that may hold what members wrote (quoted inside the core's own
sentences), so adapters escape every field for their platform (integrations/common/text.py).
The core therefore never writes a mention or a link: anything that looks like one is a
member's words and is shown as written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

FieldKind = Literal["text", "long_text", "number", "select"]


@dataclass(frozen=True)
class Button:
    """A button whose click runs `command` as if the person had typed it."""

    label: str
    command: str
    style: Literal["primary", "danger", "default"] = "default"


@dataclass(frozen=True)
class Section:
    title: str
    text: str
    source_ids: tuple[str, ...] = ()
    buttons: tuple[Button, ...] = ()  # shown under this section (a digest theme's answers)


@dataclass(frozen=True)
class Message:
    """Something posted: a headline, optional sections (posted as thread replies) and buttons."""

    text: str
    sections: tuple[Section, ...] = ()
    buttons: tuple[Button, ...] = ()
    attachments: tuple[str, ...] = ()  # file paths (charts)
    # What each attachment shows, in the same order, for whoever cannot see it (screen readers,
    # a preview that failed to load): Slack's `alt_txt`, Discord's description.
    alt_texts: tuple[str, ...] = ()

    def alt_text(self, index: int) -> str:
        return self.alt_texts[index] if index < len(self.alt_texts) else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "sections": [_section_json(s) for s in self.sections],
            "buttons": [_button_json(b) for b in self.buttons],
            "attachments": list(self.attachments),
            "alt_texts": list(self.alt_texts),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        return cls(
            text=data["text"],
            sections=tuple(
                Section(
                    s["title"],
                    s["text"],
                    tuple(s.get("source_ids", ())),
                    tuple(Button(**b) for b in s.get("buttons", ())),
                )
                for s in data.get("sections", ())
            ),
            buttons=tuple(Button(**b) for b in data.get("buttons", ())),
            attachments=tuple(data.get("attachments", ())),
            alt_texts=tuple(data.get("alt_texts", ())),
        )


def _section_json(s: Section) -> dict[str, Any]:
    out: dict[str, Any] = {"title": s.title, "text": s.text, "source_ids": list(s.source_ids)}
    if s.buttons:  # only where there are some, so stored digests without any read as before
        out["buttons"] = [_button_json(b) for b in s.buttons]
    return out


def _button_json(b: Button) -> dict[str, str]:
    return {"label": b.label, "command": b.command, "style": b.style}


@dataclass(frozen=True)
class Reply:
    """The answer to a command. Ephemeral by default: only the person sees it."""

    message: Message
    ephemeral: bool = True
    # Per-field messages when a submitted form failed validation; adapters show them inline.
    errors: dict[str, str] = field(default_factory=dict)
    # The answer to a delivery already handled (its source key was seen before): an adapter
    # that asked for the command to run once (`Port.handle(once=True)`) shows nothing.
    repeat: bool = False

    @classmethod
    def text(
        cls,
        text: str,
        *,
        ephemeral: bool = True,
        buttons: tuple[Button, ...] = (),
        errors: dict[str, str] | None = None,
        repeat: bool = False,
    ) -> Reply:
        return cls(
            Message(text, buttons=buttons), ephemeral=ephemeral, errors=errors or {}, repeat=repeat
        )


@dataclass(frozen=True)
class FormField:
    name: str
    label: str
    kind: FieldKind = "text"
    required: bool = True
    max_length: int = 2000
    options: tuple[str, ...] = ()
    initial: str | None = None
    hint: str = ""


@dataclass(frozen=True)
class Form:
    """A structured input. Submitting it runs `command` with the values as field=value pairs."""

    title: str
    command: str
    fields: tuple[FormField, ...]
    submit_label: str = "Save"
    intro: str = ""
    values: dict[str, str] = field(default_factory=dict)

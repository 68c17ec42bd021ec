"""The core's Message, Reply and Form -> Discord messages, embeds, buttons, selects and modals.

Discord's limits: 2,000 characters of content, 10 embeds and 6,000 embed characters per
message, 4,096 per embed description, 256 per title, 5 rows of components, 25 options in a
select, 5 text inputs (of up to 4,000 characters) in a modal, 45 characters in labels and
titles, 100 in a custom id. Everything here keeps inside them."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

import discord

from bot.domain import Button, FormField, Message, Section
from integrations.common.split import clip, split_text
from integrations.common.text import discord as safe

CONTENT_LIMIT = 2000
DESCRIPTION_LIMIT = 4096
TITLE_LIMIT = 256
ALT_LIMIT = 1024  # an attachment's description
FOOTER_LIMIT = 2048
EMBEDS_PER_MESSAGE = 10
EMBED_CHARS_PER_MESSAGE = 6000
BUTTONS_PER_MESSAGE = 25
MODAL_INPUTS = 5
INPUT_LIMIT = 4000
LABEL_LIMIT = 45
PLACEHOLDER_LIMIT = 100
SELECT_OPTIONS = 25
SELECTS_PER_PAGE = 4  # the fifth row holds the buttons
THREAD_NAME_LIMIT = 100

STYLES = {
    "primary": discord.ButtonStyle.primary,
    "danger": discord.ButtonStyle.danger,
    "default": discord.ButtonStyle.secondary,
}


def section_embeds(sections: Sequence[Section]) -> list[discord.Embed]:
    """One embed per section; a long section continues in further embeds."""
    embeds: list[discord.Embed] = []
    for section in sections:
        parts = split_text(safe(section.text) or "…", DESCRIPTION_LIMIT)
        for index, part in enumerate(parts):
            title = safe(section.title if index == 0 else f"{section.title} (continued)")
            embed = discord.Embed(title=clip(title, TITLE_LIMIT), description=part)
            embeds.append(embed)
    return embeds


def embed_batches(embeds: Sequence[discord.Embed]) -> list[list[discord.Embed]]:
    """Group embeds into messages: at most 10 each, and 6,000 characters in total."""
    batches: list[list[discord.Embed]] = []
    current: list[discord.Embed] = []
    size = 0
    for embed in embeds:
        length = len(embed)
        if current and (
            len(current) == EMBEDS_PER_MESSAGE or size + length > EMBED_CHARS_PER_MESSAGE
        ):
            batches.append(current)
            current, size = [], 0
        current.append(embed)
        size += length
    if current:
        batches.append(current)
    return batches


def section_messages(
    sections: Sequence[Section], views: Sequence[discord.ui.View | None]
) -> list[Outgoing]:
    """Sections as thread messages: embeds batched as `embed_batches` does, except that a
    section with buttons (a digest theme's answers) ends its message, with its view on it, so
    the buttons sit under what they answer."""
    out: list[Outgoing] = []
    run: list[Section] = []
    for section, view in zip(sections, views, strict=True):
        if view is None:
            run.append(section)
            continue
        out += [Outgoing(embeds=b) for b in embed_batches(section_embeds(run))]
        run = []
        own = [Outgoing(embeds=b) for b in embed_batches(section_embeds([section]))]
        own[-1].view = view
        out += own
    out += [Outgoing(embeds=b) for b in embed_batches(section_embeds(run))]
    return out


def files_for(paths: Sequence[str], alts: Sequence[str] = ()) -> list[discord.File]:
    """Attachments that exist on disk, each with its alt text as the file's description; a
    missing chart is left out rather than failing a post."""
    return [
        discord.File(
            p,
            filename=os.path.basename(p),
            description=clip(safe(alts[i]), ALT_LIMIT) if i < len(alts) and alts[i] else None,
        )
        for i, p in enumerate(paths)
        if os.path.isfile(p)
    ]


def close_files(files: Sequence[discord.File]) -> None:
    for f in files:
        f.close()


def button_view(buttons: Sequence[tuple[Button, str]]) -> discord.ui.View | None:
    """A view of (button, custom id) pairs. It is stopped before it is sent: clicks are routed
    by custom id (see interactions.py), not by discord.py's in-memory view store, so they keep
    working after a restart and nothing piles up in memory."""
    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    seen: set[str] = set()
    for button, custom_id in buttons[:BUTTONS_PER_MESSAGE]:
        if custom_id in seen:
            continue
        seen.add(custom_id)
        view.add_item(
            discord.ui.Button(
                label=clip(button.label, 80),
                style=STYLES.get(button.style, discord.ButtonStyle.secondary),
                custom_id=custom_id,
            )
        )
    view.stop()
    return view


@dataclass
class Outgoing:
    """One Discord message to send. Its content is escaped again as it goes out (see
    `outgoing_content`); escaping is idempotent, so text escaped before splitting stays as is."""

    content: str = ""
    embeds: list[discord.Embed] = field(default_factory=list)
    view: discord.ui.View | None = None
    attachments: tuple[str, ...] = ()
    alt_texts: tuple[str, ...] = ()  # one per attachment, same order


def plain_messages(
    message: Message, view: discord.ui.View | None, *, limit: int = CONTENT_LIMIT
) -> list[Outgoing]:
    """A message without a thread: text chunks, then sections as embeds; the attachments ride on
    the first message and the buttons on the last, after what they act on."""
    out = [Outgoing(content=chunk) for chunk in split_text(safe(message.text), limit)]
    for batch in embed_batches(section_embeds(message.sections)):
        out.append(Outgoing(embeds=batch))
    out[0].attachments = message.attachments
    out[0].alt_texts = message.alt_texts
    out[-1].view = view
    return out


def outgoing_content(content: str) -> str:
    """Content as it leaves for Discord: every send path calls this, whatever built it."""
    return safe(content)


def thread_name(message: Message) -> str:
    first = message.text.strip().splitlines()[0] if message.text.strip() else "Details"
    return clip(first.strip("*_ "), THREAD_NAME_LIMIT) or "Details"


# --- forms ---------------------------------------------------------------------------------


def in_modal(f: FormField) -> bool:
    """Text goes into the modal; numbers and short option lists become selects beside it."""
    if f.kind == "number":
        return False
    return not (f.kind == "select" and 0 < len(f.options) <= SELECT_OPTIONS)


def number_options(current: str | None) -> list[str]:
    """0-100 in steps of ten, plus the current value when it is between steps."""
    values = [str(n) for n in range(0, 101, 10)]
    if current and current.isdigit() and current not in values:
        values.append(current)
        values.sort(key=int)
    return values


def select_options(f: FormField, current: str | None) -> list[tuple[str, str]]:
    """(label, value) pairs for a select field."""
    if f.kind == "number":
        return [(v, v) for v in number_options(current)]
    return [(o, o) for o in f.options[:SELECT_OPTIONS]]


def select_item(
    f: FormField,
    custom_id: str,
    current: str | None,
    labels: dict[str, str] | None = None,
) -> discord.ui.Select[discord.ui.View]:
    options = [
        discord.SelectOption(
            label=clip((labels or {}).get(value, label), 100),
            value=value,
            default=value == current,
        )
        for label, value in select_options(f, current)
    ]
    return discord.ui.Select(
        custom_id=custom_id,
        placeholder=clip(f.label + ("" if f.required else " (optional)"), 150),
        min_values=0 if not f.required else 1,
        max_values=1,
        options=options,
    )


def text_input(
    f: FormField, custom_id: str, current: str | None
) -> discord.ui.TextInput[discord.ui.Modal]:
    limit = max(1, min(f.max_length, INPUT_LIMIT))
    return discord.ui.TextInput(
        label=clip(f.label, LABEL_LIMIT),
        style=discord.TextStyle.paragraph if f.kind == "long_text" else discord.TextStyle.short,
        custom_id=custom_id,
        placeholder=clip(f.hint, PLACEHOLDER_LIMIT) if f.hint else None,
        default=(current or "")[:limit] or None,
        required=f.required,
        max_length=limit,
    )


def describe_errors(errors: dict[str, str], fields: Sequence[FormField]) -> str:
    """'Not saved' and, per field, which one and why."""
    labels = {f.name: f.label for f in fields}
    lines = ["Not saved. Please fix:"]
    for name, problem in errors.items():
        label = labels.get(name, name)
        lines.append(f"• **{label}** ({name}): {problem}")
    return "\n".join(lines)

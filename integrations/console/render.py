"""Message, Reply and Form -> plain terminal text."""

from __future__ import annotations

import textwrap

from bot.domain import Form, FormField, Message, Reply
from integrations.common.text import terminal

WIDTH = 96


def _wrap(text: str, indent: str) -> list[str]:
    """`text` cleaned for the terminal (see integrations.common.text), wrapped and indented."""
    lines: list[str] = []
    for paragraph in terminal(text).splitlines() or [""]:
        if not paragraph.strip():
            lines.append(indent.rstrip())
            continue
        lead = len(paragraph) - len(paragraph.lstrip())
        lines.extend(
            textwrap.wrap(
                paragraph.strip(),
                WIDTH,
                initial_indent=indent + " " * lead,
                subsequent_indent=indent + " " * (lead + 2),
                break_long_words=False,
                break_on_hyphens=False,
            )
            or [indent]
        )
    return lines


def render_message(message: Message, indent: str = "  ") -> str:
    lines = _wrap(message.text, indent)
    for section in message.sections:
        lines.append(f"{indent}  ↳ {terminal(section.title)}")
        lines.extend(_wrap(section.text, indent + "    "))
        for button in section.buttons:
            lines.append(f"{indent}    [{terminal(button.label)}] type: {terminal(button.command)}")
    for path in message.attachments:
        lines.append(f"{indent}  [attachment] {terminal(path)}")
    for button in message.buttons:
        lines.append(f"{indent}  [{terminal(button.label)}] type: {terminal(button.command)}")
    return "\n".join(lines)


def render_reply(reply: Reply) -> str:
    who = "only you see this" if reply.ephemeral else "posted in the channel"
    return f"  ({who})\n{render_message(reply.message, '  ')}"


def numbered(f: FormField) -> bool:
    """Whether a select is offered as numbered options: not when its options are numbers
    themselves (experiment ids), which would read two ways."""
    return f.kind == "select" and bool(f.options) and not any(o.isdigit() for o in f.options)


def chosen(f: FormField, answer: str) -> str:
    """A typed answer to a field: for numbered options, `2` is the second option."""
    if numbered(f) and answer.isdigit() and 1 <= int(answer) <= len(f.options):
        return f.options[int(answer) - 1]
    return answer


def field_prompt(f: FormField, current: str | None) -> str:
    parts = [f.label]
    if numbered(f):
        parts.append(" ".join(f"{n}) {o}" for n, o in enumerate(f.options, start=1)))
    elif f.options:
        parts.append("/".join(f.options))
    if current:
        parts.append(f"enter keeps: {current[:40]}")
    elif not f.required:
        parts.append("optional")
    return terminal(f"  {f.name} ({'; '.join(parts)})> ")


def render_form_intro(form: Form) -> str:
    head = f"  [form] {terminal(form.title)}"
    return head + (f"\n{render_message(Message(form.intro), '  ')}" if form.intro else "")

"""The console shows stored text without its escape sequences and control characters: what a
member typed can neither recolour the terminal, move its cursor, retitle it nor hide text."""

from __future__ import annotations

import re

from bot.config import Settings
from bot.domain import Button, Form, FormField, Message, Reply, Section
from integrations.console.render import field_prompt, render_form_intro, render_reply
from tests.integrations.console.test_shell import run_script

NASTY = "\x1b[2J\x1b]0;owned\x07Ev\x1b[31mil\x1b[0m\x07\x08\x00\u202eyxe.\x9b1m name"
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


async def test_a_stored_name_reaches_the_terminal_without_escapes(settings: Settings) -> None:
    out = await run_script(
        settings, [f'cycle new name="{NASTY}" question="Why?" scale=team', "cycle list"]
    )
    shown = [line for line in out.splitlines() if "name" in line and "cycle new" not in line]
    assert shown, out
    for line in shown:
        assert not CONTROL.search(line), repr(line)
    assert any("Evil" in line for line in shown)  # the name is still there, cleaned


def test_every_rendered_field_is_cleaned() -> None:
    message = Message(
        NASTY,
        sections=(Section(NASTY, NASTY, (NASTY,), (Button(NASTY, NASTY),)),),
        buttons=(Button(NASTY, NASTY),),
        attachments=(NASTY,),
    )
    form = Form(NASTY, "x", (FormField("f", NASTY, options=(NASTY,)),), intro=NASTY)
    for text in (
        render_reply(Reply(message)),
        render_form_intro(form),
        field_prompt(form.fields[0], NASTY),
    ):
        assert not CONTROL.search(text), repr(text)
        assert "Evil" in text


def test_a_sections_buttons_follow_it() -> None:
    message = Message(
        "Digest",
        sections=(
            Section(
                "Themes",
                "1. Trust first",
                buttons=(Button("1. Agree", "digest respond 4.1 agree"),),
            ),
            Section("Alarms", "None"),
        ),
    )
    lines = render_reply(Reply(message)).splitlines()
    at = next(
        i for i, line in enumerate(lines) if "[1. Agree] type: digest respond 4.1 agree" in line
    )
    assert "Trust first" in lines[at - 1] and "Alarms" in lines[at + 1]

from __future__ import annotations

import discord

from bot.domain import Actor, Button, ChannelRef, Form, FormField, Message, Platform, Section
from integrations.discord.forms import FormStore, steps_of
from integrations.discord.render import (
    button_view,
    describe_errors,
    embed_batches,
    plain_messages,
    section_embeds,
    section_messages,
    thread_name,
)


def test_sections_become_embeds_within_limits() -> None:
    sections = [Section(f"Theme {i}", "word " * 1500, ("response:1",)) for i in range(8)]
    embeds = section_embeds(sections)
    assert all(len(e.description or "") <= 4096 for e in embeds)
    assert len(embeds) == 16  # each 7,500-character section continues in a second embed
    assert embeds[1].title == "Theme 0 (continued)"
    assert all(e.footer.text is None for e in embeds)  # no source ids under the reader's eyes
    batches = embed_batches(embeds)
    assert all(len(b) <= 10 and sum(len(e) for e in b) <= 6000 for b in batches)
    assert sum(len(b) for b in batches) == 16


async def test_plain_messages_put_files_first_and_buttons_last() -> None:
    view = button_view([(Button("Answer", "answer 1", "primary"), "cy:c:1:answer 1")])
    message = Message("a" * 2500, (Section("S", "text"),), attachments=("/nope.png",))
    out = plain_messages(message, view)
    assert [len(o.content) for o in out] == [2000, 500, 0]
    assert out[0].attachments == ("/nope.png",) and out[-1].view is view and out[0].view is None
    assert view is not None and view.is_finished()  # never kept in discord.py's view store
    [item] = view.children
    assert isinstance(item, discord.ui.Button) and item.style is discord.ButtonStyle.primary
    assert thread_name(Message("*Weekly digest* · team\nmore")) == "Weekly digest* · team"


def test_forms_are_steps_of_selects_then_modals() -> None:
    texts = tuple(FormField(f"t{i}", f"T{i}", "long_text") for i in range(7))
    choices = (
        FormField("surprise", "Surprise", "number"),
        FormField("confidence", "Confidence", "number"),
        FormField("visibility", "Who", "select", options=("group", "private")),
        FormField("named", "Named", "select", options=("yes", "no")),
        FormField("experiment", "Experiment", "select", options=tuple(str(i) for i in range(3))),
        FormField("many", "Many", "select", options=tuple(str(i) for i in range(30))),
    )
    steps = steps_of(Form("F", "cmd", texts + choices))
    assert [(s.kind, len(s.fields)) for s in steps] == [
        ("select", 4),
        ("select", 1),
        ("modal", 5),
        ("modal", 3),  # six text fields, plus the select too long for a menu
    ]
    who = Actor(Platform.DISCORD, "1", "2", "Di")
    store = FormStore(ttl=60)
    a = store.open(
        Form("F", "cmd", choices, values={"named": "yes"}),
        who,
        ChannelRef(Platform.DISCORD, "1", "3"),
    )
    b = store.open(Form("F", "cmd", choices), who, ChannelRef(Platform.DISCORD, "1", "3"))
    assert a.token != b.token and a.values["named"] == "yes"
    assert store.get(a.token, "someone else") is None and store.get(a.token, "2") is a
    expired = FormStore(ttl=-1)
    gone = expired.open(Form("F", "cmd", choices), who, ChannelRef(Platform.DISCORD, "1", "3"))
    assert expired.get(gone.token, "2") is None


def test_errors_name_the_field_and_why() -> None:
    fields = (FormField("cycle", "Learning cycle id"),)
    text = describe_errors({"cycle": "'x' is not a cycle id."}, fields)
    assert text == "Not saved. Please fix:\n• **Learning cycle id** (cycle): 'x' is not a cycle id."


def test_a_section_with_buttons_ends_its_message_with_its_view() -> None:
    plain = [Section(f"S{n}", "text") for n in range(3)]
    themed = Section("Does this match?", "1. Trust first", buttons=(Button("Agree", "x"),))
    view = discord.ui.View(timeout=None)
    sections = [plain[0], themed, plain[1], plain[2]]
    out = section_messages(sections, [None, view, None, None])
    assert [[e.title for e in o.embeds] for o in out] == [
        ["S0"],
        ["Does this match?"],
        ["S1", "S2"],
    ]
    assert [o.view for o in out] == [None, view, None]

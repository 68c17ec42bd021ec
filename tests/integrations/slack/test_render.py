from __future__ import annotations

from bot.commands.parser import parse
from bot.domain import Button, ChannelRef, Form, FormField, Message, Platform, Reply, Section
from integrations.common.split import split_text
from integrations.slack import render

CHANNEL = ChannelRef(Platform.SLACK, "T1", "C1")


def test_member_text_cannot_mention_or_link() -> None:
    text = render.mrkdwn("<!channel> see <https://evil.test|this> & more")
    assert "<" not in text
    assert text.startswith("&lt;!channel&gt; see &lt;https://evil.test|this&gt; &amp; more")


def test_quotes_and_bold_are_converted_and_a_markdown_link_stays_text() -> None:
    text = render.mrkdwn(
        '> "a quote" (a member)\nA **bold** [guide](https://example.org/g?a=1&b=2)'
    )
    assert text.startswith('> "a quote"')
    assert "*bold*" in text
    # A label could disguise where a link goes: the address shows as written.
    assert "[guide](https://example.org/g?a=1&amp;b=2)" in text
    assert "|guide>" not in text
    assert render.mrkdwn("3 > 2") == "3 &gt; 2"


def test_long_text_is_split_within_the_section_limit() -> None:
    paragraphs = [f"paragraph {n} " + "word " * 150 for n in range(20)]
    text = "\n\n".join(paragraphs)
    blocks = render.text_blocks(text)
    assert len(blocks) > 1
    assert all(len(b["text"]["text"]) <= render.MAX_SECTION for b in blocks)
    joined = " ".join(b["text"]["text"] for b in blocks)
    assert all(f"paragraph {n} " in joined for n in range(20))
    # One unbroken word longer than a section is cut hard rather than dropped.
    assert [len(p) for p in split_text("x" * 6500, render.MAX_SECTION)] == [3000, 3000, 500]


def test_messages_keep_to_fifty_blocks_and_sections_become_replies() -> None:
    text = "\n\n".join("line " * 590 for _ in range(60))  # ~60 sections of ~2,950 characters
    message = Message(
        text,
        sections=(
            Section("Momentum", "3 experiments", ("checkin:1", "checkin:2")),
            *(Section(f"S{n}", "text") for n in range(3)),
        ),
        buttons=tuple(Button(f"B{n}", f"cmd {n}") for n in range(30)),
    )
    head, replies = render.message_posts(message)
    assert len(head) == 2
    assert all(len(p.blocks) <= render.MAX_BLOCKS for p in head + replies)
    actions = [b for p in head for b in p.blocks if b["type"] == "actions"]
    assert [len(a["elements"]) for a in actions] == [25, 5]
    ids = [e["action_id"] for a in actions for e in a["elements"]]
    assert len(set(ids)) == 30
    assert all(render.ACTION_PATTERN.match(i) for i in ids)
    assert actions[0]["elements"][3]["value"] == "cmd 3"
    assert len(replies) == 4
    assert replies[0].blocks[0]["text"]["text"] == "*Momentum*\n3 experiments"
    # Source ids stay with the stored digest (`digest sources`), out of the reader's way.
    assert len(replies[0].blocks) == 1 and "checkin:1" not in str(replies[0].blocks)
    assert all(len(p.text) <= render.MAX_FALLBACK for p in head)


def test_button_labels_and_styles() -> None:
    element = render.button_element(Button("x" * 100, "answer 3", "primary"), 0)
    assert len(element["text"]["text"]) == 75
    assert element["style"] == "primary"
    assert "style" not in render.button_element(Button("Plain", "help"), 1)


def test_reply_payloads_are_ephemeral_or_in_channel_and_capped() -> None:
    [private] = render.reply_payloads(Reply.text("only you"))
    assert private["response_type"] == "ephemeral"
    [public] = render.reply_payloads(Reply.text("everyone", ephemeral=False))
    assert public["response_type"] == "in_channel"
    huge = Reply(Message("head", sections=tuple(Section(f"s{n}", "t") for n in range(400))))
    payloads = render.reply_payloads(huge)
    assert len(payloads) == 5
    assert all(len(p["blocks"]) <= render.MAX_BLOCKS for p in payloads)
    assert "cut" in payloads[-1]["blocks"][-1]["text"]["text"]


FORM = Form(
    "A very long form title that Slack would refuse",
    "checkin 3",
    (
        FormField("happened", "What happened", "long_text", max_length=5000),
        FormField("surprise", "Surprise", "number", initial="50", hint="0 to 100"),
        FormField(
            "visibility", "Who sees it", "select", required=False, options=("group", "private")
        ),
        FormField("title", "Title", max_length=80),
    ),
    intro="Two sliders.",
    values={"surprise": "70", "visibility": "private", "title": "Pilot"},
)


def test_a_form_becomes_a_modal_that_remembers_where_it_came_from() -> None:
    view = render.modal(FORM, render.FormContext(CHANNEL, FORM.command, "D1:123.4"))
    assert len(view["title"]["text"]) <= render.MAX_TITLE
    assert view["callback_id"] == render.FORM_CALLBACK
    intro, happened, surprise, visibility, title = view["blocks"]
    assert intro["type"] == "section"
    assert happened["element"]["multiline"] is True
    assert happened["element"]["max_length"] == 3000
    assert surprise["element"] == {
        "type": "number_input",
        "is_decimal_allowed": False,
        "initial_value": "70",
        "action_id": "value",
    }
    assert surprise["hint"]["text"] == "0 to 100"
    assert visibility["optional"] is True
    assert visibility["element"]["initial_option"]["value"] == "private"
    assert title["element"]["initial_value"] == "Pilot"
    context = render.FormContext.load(view["private_metadata"])
    assert context == render.FormContext(CHANNEL, "checkin 3", "D1:123.4")


def test_submitted_state_becomes_field_values() -> None:
    view = {
        "state": {
            "values": {
                "happened": {"value": {"type": "plain_text_input", "value": "We ran it"}},
                "surprise": {"value": {"type": "number_input", "value": "80"}},
                "visibility": {"value": {"type": "static_select", "selected_option": None}},
                "title": {"value": {"type": "plain_text_input", "value": None}},
            }
        }
    }
    assert render.form_values(view) == {
        "happened": "We ran it",
        "surprise": "80",
        "visibility": "",
        "title": "",
    }


def test_errors_go_on_their_fields_or_the_first_one() -> None:
    errors = render.field_errors(
        ["happened", "surprise"], {"surprise": "must be from 0 to 100", "experiment": "gone"}
    )
    assert errors == {"surprise": "must be from 0 to 100", "happened": "experiment: gone"}


def test_a_reopen_button_carries_what_was_typed() -> None:
    form = Form("T", "cycle new", FORM.fields, values={"title": 'It\'s "quoted"', "x": ""})
    command = render.reopen_command(form)
    parsed = parse(command)
    assert parsed.words == ["cycle", "new"]
    assert parsed.fields == {"title": 'It\'s "quoted"'}


def test_a_sections_buttons_close_its_reply() -> None:
    agree = Button("1. This matches what we see", "digest respond 4.1 agree", "primary")
    section = Section("Does this match?", "1. Trust first", buttons=(agree,))
    blocks = render.section_blocks(section)
    assert blocks[-1]["type"] == "actions"
    assert [e["value"] for e in blocks[-1]["elements"]] == ["digest respond 4.1 agree"]
    _, replies = render.message_posts(Message("Digest", (Section("Momentum", "x"), section)))
    assert [b["type"] for b in replies[0].blocks] == ["section"]
    assert replies[1].blocks[-1]["type"] == "actions"

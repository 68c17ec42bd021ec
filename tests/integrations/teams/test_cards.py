"""Cards and the text in them: member text never becomes a link or a mention, choice fields are
menus, and a submission is read back as the command and fields it carries."""

from __future__ import annotations

from microsoft_agents.activity import Activity

from bot.domain import Button, Form, FormField, Message, Reply
from integrations.common.text import ZWSP
from integrations.teams.cards import (
    BUTTON_KEY,
    CHANNEL_KEY,
    FORM_KEY,
    Submitted,
    form_card,
    message_card,
    reply_card,
    submitted,
)
from integrations.teams.identity import channel_for, command_text

HOSTILE = "see [the form](https://evil.example) and <at>Everyone</at>"


def texts(card: dict[str, object]) -> str:
    return "\n".join(str(e.get("text", "")) for e in card["body"])  # type: ignore[attr-defined]


def test_member_text_cannot_make_a_link_or_a_mention() -> None:
    shown = texts(message_card(Message(HOSTILE)))
    assert "](" not in shown
    assert f"]{ZWSP}(" in shown
    assert "<at>" not in shown
    assert shown.replace(ZWSP, "") == HOSTILE  # the words themselves are all there


def test_choice_fields_are_menus_and_values_are_kept() -> None:
    form = Form(
        "Check in",
        "checkin 3",
        (
            FormField("happened", "What happened", "long_text"),
            FormField("surprise", "Surprise", "number", required=False),
            FormField("visibility", "Who can read it", "select", options=("group", "private")),
        ),
        values={"happened": "We met"},
    )
    card = form_card(form, {"surprise": "Use a number from 0 to 100."}, channel="19:c")
    inputs = {e["id"]: e for e in card["body"] if "id" in e}
    assert inputs["visibility"]["type"] == "Input.ChoiceSet"
    assert [c["value"] for c in inputs["visibility"]["choices"]] == ["group", "private"]
    assert inputs["happened"]["isMultiline"] and inputs["happened"]["value"] == "We met"
    assert inputs["surprise"]["type"] == "Input.Number"
    assert "Use a number from 0 to 100." in texts(card)
    assert card["actions"][0]["data"] == {FORM_KEY: "checkin 3", CHANNEL_KEY: "19:c"}


def test_a_submission_is_read_back_as_its_command_and_fields() -> None:
    value = {FORM_KEY: "answer 1", CHANNEL_KEY: "19:c", "tried": "x", "surprise": 40.0}
    assert submitted(value) == Submitted("answer 1", {"tried": "x", "surprise": "40"}, "19:c")
    assert submitted({BUTTON_KEY: "answer 1"}) == Submitted("answer 1", None)
    assert submitted({"something": "else"}) is None
    assert submitted("not a dict") is None


def test_a_reply_keeps_its_buttons_and_sections_in_one_card() -> None:
    reply = Reply.text("Saved.", buttons=(Button("Edit answers", "answer 1", "primary"),))
    card = reply_card(reply)
    assert card["actions"][0]["data"] == {BUTTON_KEY: "answer 1"}
    assert card["actions"][0]["title"] == "Edit answers"


def activity(text: str, entities: list[dict[str, object]]) -> Activity:
    return Activity.model_validate(
        {
            "type": "message",
            "text": text,
            "entities": entities,
            "from": {"id": "29:a", "name": "Ana"},
            "recipient": {"id": "28:bot", "name": "LC"},
            "conversation": {
                "id": "19:c@thread.tacv2;messageid=17",
                "conversationType": "channel",
                "tenantId": "t1",
            },
        }
    )


def test_the_bots_mention_is_stripped_and_anothers_becomes_their_id() -> None:
    typed = activity(
        "<at>Learning Cycles</at>\u00a0role add <at>Sam</at> facilitator",
        [
            {"type": "mention", "text": "<at>Learning Cycles</at>", "mentioned": {"id": "28:bot"}},
            {"type": "mention", "text": "<at>Sam</at>", "mentioned": {"id": "29:sam"}},
        ],
    )
    assert command_text(typed) == "role add 29:sam facilitator"
    # A reply thread counts as its channel.
    assert channel_for(typed).channel == "19:c@thread.tacv2"

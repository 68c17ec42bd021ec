"""`round template new|edit|remove|list`: a group's own templates, written in chat as forms."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.commands import all_specs
from bot.commands.dispatch import Dispatcher
from bot.domain import Form, MemberInfo, Reply, Role
from bot.services import outbox
from bot.services.context import Deps
from bot.store.models import GroupTemplate, Response, Round
from tests.support.adapter import RecordingAdapter
from tests.support.chat import actor, ask, channel_with, dm, run, said, say

FRAN = actor("F1", "Fran", Role.FACILITATOR)
ADA = actor("U1", "Ada")
BO = actor("U2", "Bo")
PEOPLE = [MemberInfo(a.user_id, a.display_name, a.timezone) for a in (ADA, BO)]

RETRO = {
    "name": "Fortnightly retro",
    "intro": "Two weeks, three questions.",
    "duration": "2d",
    "visibility": "facilitators",
    "q1": "What did we try?",
    "q1_kind": "text",
    "q2": "Which part of the system did this touch?",
    "q2_kind": "choice",
    "q2_options": "Intake | Triage | Follow-up",
    "q3": "How did it feel?",
    "q3_kind": "dyad",
    "q3_options": "calm | stressed",
}


@pytest.fixture
def adapter(deps: Deps) -> RecordingAdapter:
    return channel_with(deps, PEOPLE)


@pytest.fixture
def bot(deps: Deps) -> Dispatcher:
    return Dispatcher(deps, all_specs())


async def _answer_form(bot: Dispatcher, who: object, round_id: int) -> Form:
    return await ask(bot, who, f"answer {round_id}", dm(who))  # type: ignore[arg-type]


async def test_a_template_with_a_choice_is_written_in_a_form_and_runs_a_round(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    form = await ask(bot, FRAN, "round template new")
    kinds = {f.name: f for f in form.fields}
    assert kinds["q1_kind"].kind == "select"
    assert kinds["q1_kind"].options == ("text", "choice", "dyad")
    assert kinds["visibility"].options == ("group", "facilitators", "private")
    assert len([f for f in form.fields if f.name.startswith("q") and "_" not in f.name]) == 5

    saved = await say(bot, FRAN, form.command, fields=RETRO, source_key="submit-1")
    assert "*Fortnightly retro* (`fortnightly-retro`)" in saved.message.text
    assert "1 choice" in saved.message.text and "1 dyad" in saved.message.text
    replay = await say(bot, FRAN, form.command, fields=RETRO, source_key="submit-1")
    assert replay.message.text == "That request was already handled."

    listing = await said(bot, ADA, "round template list")
    assert "*fortnightly-retro*: Fortnightly retro (open for 2d, this group's own)" in listing
    assert "[Intake / Triage / Follow-up]" in listing

    started = await said(bot, FRAN, "round start fortnightly-retro")
    assert "Round #1 *Fortnightly retro* has started" in started
    await outbox.drain(deps)
    prompt = next(s.message.text for s in adapter.sent if s.to.dm_user == "U1")
    assert "2. Which part of the system did this touch? (one of: Intake / Triage / Follow-up)" in (
        prompt
    )
    assert "3. How did it feel? (0 = calm, 100 = stressed)" in prompt

    answer = await _answer_form(bot, ADA, 1)
    fields = {f.name: f for f in answer.fields}
    assert fields["q2"].kind == "select" and fields["q2"].options == (
        "Intake",
        "Triage",
        "Follow-up",
    )
    assert fields["q3"].kind == "number" and "0 = calm" in fields["q3"].hint
    assert answer.values["visibility"] == "facilitators"  # the template's default

    bad = await run(bot, ADA, "answer 1", dm(ADA), fields={"q2": "Billing", "q3": "140"})
    assert isinstance(bad, Reply)
    assert bad.errors["q2"] == "Choose one of: Intake / Triage / Follow-up."
    assert bad.errors["q3"].startswith("Answer with a number from 0 (calm) to 100 (stressed)")
    ok = await say(
        bot, ADA, "answer 1", dm(ADA), fields={"q1": "a pilot", "q2": "triage", "q3": "70"}
    )
    assert "Saved your answers to round #1 (3 of 3 questions" in ok.message.text
    assert "only facilitators can see it" in ok.message.text
    async with deps.db.begin() as session:
        rows = (await session.execute(select(Response).order_by(Response.prompt_key))).scalars()
        assert [(r.prompt_key, r.kind, r.text) for r in rows] == [
            ("q1", "text", "a pilot"),
            ("q2", "choice", "Triage"),
            ("q3", "dyad", "70"),
        ]


async def test_editing_a_template_never_changes_an_open_round(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    await say(bot, FRAN, "round template new", fields=RETRO)
    await say(bot, FRAN, "round start fortnightly-retro")
    edit = await ask(bot, FRAN, "round template edit fortnightly-retro")
    assert edit.values["q2_options"] == "Intake | Triage | Follow-up"
    assert edit.values["q3_options"] == "calm | stressed"
    changed = await said(
        bot,
        FRAN,
        edit.command,
        fields={**edit.values, "q2_options": "Housing | Health", "q4": "Anything else?"},
    )
    assert "Rounds already open keep the questions they started with" in changed
    async with deps.db.begin() as session:
        round_ = await session.get_one(Round, 1)
        assert round_.prompts[1]["options"] == ["Intake", "Triage", "Follow-up"]
        assert len(round_.prompts) == 3
    answer = await _answer_form(bot, ADA, 1)
    assert {f.name: f for f in answer.fields}["q2"].options == ("Intake", "Triage", "Follow-up")
    await say(bot, FRAN, "round close 1")
    await say(bot, FRAN, "round start fortnightly-retro")
    answer = await _answer_form(bot, ADA, 2)
    assert {f.name: f for f in answer.fields}["q2"].options == ("Housing", "Health")
    assert "q4" in {f.name for f in answer.fields}


async def test_a_groups_own_version_overrides_a_shipped_template_until_removed(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    edit = await ask(bot, FRAN, "round template edit weekly-reflection")
    assert edit.values["q1"] == "What did you try this week?"
    saved = await said(
        bot, FRAN, edit.command, fields={"q1": "What did the team try?", "q2": "", "q3": ""}
    )
    assert "in place of the shipped one" in saved
    await say(bot, FRAN, "round start")  # the default template, as this group has it
    async with deps.db.begin() as session:
        assert (await session.get_one(Round, 1)).prompts == [
            {"key": "q1", "text": "What did the team try?"}
        ]
    shipped = await said(bot, FRAN, "round template remove dissonance")
    assert "shipped template: it cannot be removed" in shipped
    gone = await said(bot, FRAN, "round template remove weekly-reflection")
    assert "The shipped 'weekly-reflection' is used here again" in gone
    await say(bot, FRAN, "round close 1")
    await say(bot, FRAN, "round start")
    async with deps.db.begin() as session:
        assert len((await session.get_one(Round, 2)).prompts) == 3


async def test_bad_templates_are_refused_on_their_fields_and_nothing_is_saved(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    bad = {
        "name": "Odd one",
        "q1": "Pick",
        "q1_kind": "choice",
        "q1_options": "only",
        "q2": "Scale it",
        "q2_kind": "dyad",
        "q2_options": "a | b | c",
        "q3": "Free",
        "q3_options": "x | y",
        "q4_options": "orphan",
        "q5": "Hi",
        "q5_kind": "choice",
        "q5_options": "a | b",
        "duration": "40d",
    }
    reply = await run(bot, FRAN, "round template new", fields=bad)
    assert isinstance(reply, Reply)
    assert reply.errors["q1_options"] == "A choice needs 2 to 10 options."
    assert reply.errors["q2_options"].startswith("A dyad takes its two poles")
    assert reply.errors["q3_options"].startswith("Only choice and dyad questions take options")
    assert reply.errors["q4"] == "Write question 4, or clear its options."
    assert reply.errors["q5"] == "Question 5 needs at least 3 characters."
    assert reply.errors["duration"] == "A round can stay open at most 30 days."
    member = await said(bot, ADA, "round template new", fields=RETRO)
    assert "facilitator" in member.lower()
    await say(bot, FRAN, "round template new", fields=RETRO)
    again = await run(bot, FRAN, "round template new", fields=RETRO)
    assert isinstance(again, Reply)
    assert "`round template edit fortnightly-retro` changes it" in again.errors["key"]
    shipped = await run(bot, FRAN, "round template new", fields={**RETRO, "key": "dissonance"})
    assert isinstance(shipped, Reply) and "is a shipped template" in shipped.errors["key"]
    async with deps.db.begin() as session:
        keys = (await session.execute(select(GroupTemplate.key))).scalars().all()
    assert keys == ["fortnightly-retro"]
    assert "no round template 'nope'" in await said(bot, FRAN, "round template edit nope")


async def test_a_thread_reply_answers_a_choice_by_option_or_number(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    await say(bot, FRAN, "round template new", fields={**RETRO, "q1": "", "q1_kind": ""})
    await say(bot, FRAN, "round start fortnightly-retro")
    wrong = await bot.handle_reply(ADA, 1, "Billing")
    assert isinstance(wrong, Reply)
    assert wrong.message.text == "Choose one of: Intake / Triage / Follow-up."
    right = await bot.handle_reply(ADA, 1, "3")
    assert isinstance(right, Reply)
    assert "Next question: How did it feel?" in right.message.text
    async with deps.db.begin() as session:
        assert (await session.execute(select(Response.text))).scalar_one() == "Follow-up"


async def test_digest_and_round_summary_count_choices_and_never_quote_them(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    cy = actor("U3", "Cy")
    dee = actor("U4", "Dee")
    adapter.members["learning"] += [MemberInfo("U3", "Cy", None), MemberInfo("U4", "Dee", None)]
    await say(bot, FRAN, "round template new", fields={**RETRO, "visibility": "group"})
    await say(bot, FRAN, "round start fortnightly-retro")
    answers = [
        (ADA, "Triage", "80", "group"),
        (BO, "Triage", "60", "group"),
        (cy, "Intake", "10", "group"),
        (dee, "Follow-up", "95", "private"),  # a canary: never counted
    ]
    for who, part, feel, visibility in answers:
        await say(
            bot,
            who,
            "answer 1",
            dm(who),
            fields={
                "q1": f"{who.display_name} tried",
                "q2": part,
                "q3": feel,
                "visibility": visibility,
            },
        )
    preview = await say(bot, FRAN, "digest preview")
    section = next(s for s in preview.message.sections if s.title == "Choices and dyads")
    lines = section.text.splitlines()
    assert lines[0] == "“Which part of the system did this touch?” (round #1, 3 answers)"
    assert lines[1] == "  Intake     ██████ 1"
    assert lines[2] == "  Triage     ████████████ 2"
    assert lines[3] == "  Follow-up  0"
    assert lines[4] == "“How did it feel?” (round #1, 3 answers)"
    assert lines[5] == "  calm █··██ stressed: on average 50/100"
    quoted = "\n".join(s.text for s in preview.message.sections if s.title != "Choices and dyads")
    assert "Triage" not in quoted and "Follow-up" not in quoted
    await say(bot, FRAN, "round close 1")
    async with deps.db.begin() as session:
        summary = (await session.get_one(Round, 1)).summary or ""
    assert "“Which part of the system did this touch?” (round #1, 3 answers)" in summary
    assert "Dee" not in summary and "Follow-up  0" in summary


async def test_round_help_lists_the_template_and_reminder_commands(bot: Dispatcher) -> None:
    round_help = await said(bot, ADA, "round")
    assert "`round template new" in round_help and "`round reminders" in round_help
    template_help = await said(bot, ADA, "round template")
    assert template_help.startswith("Round template commands:")
    assert "`round template remove <key>`" in template_help
    assert "No round template command 'nope'." in await said(bot, ADA, "round template nope")


async def test_removing_is_refused_while_the_schedule_starts_it_and_a_replay_is_a_no_op(
    deps: Deps, bot: Dispatcher, adapter: RecordingAdapter
) -> None:
    await say(bot, FRAN, "round template new", fields=RETRO)
    await say(bot, FRAN, "round schedule 0 9 * * mon fortnightly-retro for 2d")
    refused = await said(bot, FRAN, "round template remove fortnightly-retro")
    assert refused.startswith("The round schedule here starts 'fortnightly-retro'")
    assert "*fortnightly-retro*" in await said(bot, FRAN, "round template list")
    await say(bot, FRAN, "round unschedule")
    gone = await said(bot, FRAN, "round template remove fortnightly-retro", source_key="rm-1")
    assert gone.startswith("Removed this group's template 'fortnightly-retro'")
    replay = await said(bot, FRAN, "round template remove fortnightly-retro", source_key="rm-1")
    assert replay == "That request was already handled."
    again = await said(bot, FRAN, "round template remove fortnightly-retro")
    assert again.startswith("This group has no template 'fortnightly-retro' of its own")

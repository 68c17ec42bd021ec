"""What a round says: the prompt DM, the reminder, the summary posted at the close, and where a
round's DMs go."""

from __future__ import annotations

from collections.abc import Sequence

from bot.domain import Button, ChannelRef, Message, Platform, Section, Visibility
from bot.domain.plural import plural
from bot.services.rounds.queries import Progress, Standing
from bot.services.rounds.questions import prompt_line, questions_of
from bot.services.rounds.tallies import Tally, lines_for
from bot.services.rounds.times import format_time
from bot.store.models import Member, Round
from bot.summarise import Summary


def dm_to(round_: Round, member: Member) -> ChannelRef:
    platform = Platform(round_.platform)
    return ChannelRef(platform, round_.workspace, member.user_id, dm_user=member.user_id)


def answer_button(round_id: int, *, edit: bool = False) -> Button:
    return Button("Edit answers" if edit else "Answer", f"answer {round_id}", "primary")


def prompt_message(round_: Round, timezone: str) -> Message:
    lines = [f"*{round_.title}* (round #{round_.id})"]
    if round_.intro:
        lines.append(round_.intro)
    lines.append("")
    lines.extend(prompt_line(n, q) for n, q in enumerate(questions_of(round_), start=1))
    lines.append("")
    lines.append(
        f"Open until {format_time(round_.closes_at, timezone)}. Press Answer, or reply here to "
        "answer the first open question; you can edit your answers until the round closes."
    )
    return Message("\n".join(lines), buttons=(answer_button(round_.id),))


def reminder_message(round_: Round, timezone: str) -> Message:
    text = (
        f"A reminder: *{round_.title}* (round #{round_.id}) closes "
        f"{format_time(round_.closes_at, timezone)}, and your answer is not in yet. "
        "A few lines are enough."
    )
    return Message(text, buttons=(answer_button(round_.id),))


def summary_message(
    round_: Round, summary: Summary, counts: Progress, tallies: Sequence[Tally] = ()
) -> Message:
    head = (
        f"Round #{round_.id} *{round_.title}* is closed: {counts.answered} of "
        f"{plural(counts.recipients, 'member')} answered."
    )
    if not summary.themes and not tallies:
        head += " No answers were shared with the group this time."
    elif summary.themes:
        head += " What the group shared, theme by theme, is in the thread."
    else:
        head += " What the group chose is in the thread."
    sections = []
    for theme in summary.themes:
        lines = [theme.summary] if theme.summary else []
        lines.extend(f'> "{q.text}" ({q.author})' for q in theme.quotes)
        sections.append(Section(theme.label, "\n".join(lines), theme.entry_ids))
    if tallies:
        sections.append(Section("Choices and dyads", "\n".join(lines_for(list(tallies)))))
    if summary.questions:
        text = "\n".join(f"- {q}" for q in summary.questions)
        sections.append(Section("Questions to take further", text))
    return Message(head, sections=tuple(sections))


def message_text(message: Message) -> str:
    parts = [message.text]
    parts.extend(f"*{s.title}*\n{s.text}" for s in message.sections)
    return "\n\n".join(parts)


def sharing_phrase(visibility: Visibility, named: bool) -> str:
    if visibility is Visibility.PRIVATE:
        return "only you can see it"
    if visibility is Visibility.FACILITATORS:
        return "only facilitators can see it"
    return "shared with the group " + ("with your name" if named else "anonymously")


def status_lines(
    round_id: int, title: str, when: str, standing: Standing, questions: int
) -> list[str]:
    """`round status`'s lines for a member: the round, its progress, and their own answers."""
    counts = standing.progress
    members = plural(counts.recipients, "member")
    lines = [
        f"Round #{round_id} *{title}*: {when}.",
        f"Answered: {counts.answered} of {members} ({counts.rate}%).",
    ]
    if standing.asked:
        lines.append(f"You answered {standing.answered} of {plural(questions, 'question')}.")
    return lines

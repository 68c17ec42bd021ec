"""`round start|status|remind|close|list|templates` and `answer`: reflection rounds."""

from __future__ import annotations

import logging
from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import forms, reminders, templates
from bot.commands.registry import Args, CommandSpec, Result
from bot.commands.templates import template_list
from bot.commands.values import check_bool, check_choice, check_int, parse_id
from bot.domain import Form, FormField, MemberInfo, Reply, Role, Visibility
from bot.domain.params import Param, id_param
from bot.domain.plural import plural
from bot.errors import FieldErrors, NotFound, UserError
from bot.services import groups, members
from bot.services import rounds as svc
from bot.services.context import Invocation
from bot.services.events import claim_event
from bot.store.models import Group, Member, Response, Round

log = logging.getLogger(__name__)

VISIBILITIES = tuple(str(v) for v in Visibility)
NO_OPEN_ROUND = (
    "There is no open round in this channel. A facilitator starts one with `round start`."
)
ALREADY_HANDLED = "That request was already handled."


# --- shared --------------------------------------------------------------------------------


async def _replayed(session: AsyncSession, inv: Invocation) -> bool:
    """True when the platform delivered this very interaction before (a retry or a replay)."""
    if inv.source_key is None:
        return False
    return not await claim_event(session, str(inv.channel.platform), inv.source_key)


async def _resolve(session: AsyncSession, inv: Invocation, words: list[str], usage: str) -> Round:
    """The round named by id, or the channel group's latest open round."""
    if len(words) > 1:
        raise UserError(f"Use `{usage}`.")
    if not words:
        group_id = await groups.require_group_id(session, inv.channel, inv.group_id)
        latest = await svc.latest_open_round(session, group_id)
        if latest is not None:
            return latest
        last = await svc.latest_round(session, group_id)
        if last is None:
            raise UserError(NO_OPEN_ROUND)
        when = svc.format_time(
            last.closed_at or last.closes_at, await _timezone_for(session, inv, group_id)
        )
        raise UserError(
            f"There is no open round in this channel; the last one, round #{last.id}, closed on "
            f"{when}. `round status {last.id}` shows it; `round start` opens a new one."
        )
    return await _round_here(session, inv, parse_id(words[0], "round"))


async def _round_here(
    session: AsyncSession, inv: Invocation, round_id: int, *, lock: bool = False
) -> Round:
    """A round by the id someone typed: in a channel, one of its group's; in a DM, one sent to
    them (facilitators: any of the workspace's). Anything else is reported like a missing id."""
    missing = NotFound(f"There is no round #{round_id} here. `round list` shows the open ones.")
    try:
        round_ = await svc.get_round(session, round_id, lock=lock)
    except NotFound:
        raise missing from None
    if inv.channel.is_dm:
        if (round_.platform, round_.workspace) != (
            str(inv.channel.platform),
            inv.channel.workspace,
        ):
            raise missing
        if inv.role < Role.FACILITATOR and not await svc.is_recipient(
            session, round_id, inv.member_id
        ):
            raise missing
    elif round_.group_id != await groups.require_group_id(session, inv.channel, inv.group_id):
        raise missing
    return round_


def _reader_timezone(inv: Invocation, group: Group) -> str:
    """The reader's clock: their own timezone (it comes with the command), else the group's."""
    return svc.zone(inv.member_timezone, group.timezone).key


async def _timezone_for(session: AsyncSession, inv: Invocation, group_id: int) -> str:
    """`_reader_timezone` for a group by id: the group's timezone comes with the command when
    it is the channel's group (else one read of that column alone)."""
    if group_id == inv.group_id and inv.group_timezone is not None:
        fallback = inv.group_timezone
    else:
        fallback = await groups.timezone_of(session, group_id)
    return svc.zone(inv.member_timezone, fallback).key


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


# --- round start ---------------------------------------------------------------------------


def _split_start(words: list[str]) -> tuple[str | None, str | None]:
    """`[template] [for <duration>]` -> (template, duration text)."""
    lowered = [w.lower() for w in words]
    duration: str | None = None
    if "for" in lowered:
        at = lowered.index("for")
        words, duration = words[:at], " ".join(words[at + 1 :])
        if not duration:
            raise UserError("Say how long after `for`, e.g. `round start for 3d`.")
    if len(words) > 1:
        raise UserError("Name one template, e.g. `round start weekly-reflection for 3d`.")
    return (words[0] if words else None), duration


async def round_start(inv: Invocation, args: Args) -> Result:
    forms.unknown_fields((), args)
    settings = inv.deps.settings
    name, duration_text = _split_start(args.positional)
    async with inv.deps.db.begin() as session:
        template = await svc.template_here(
            session, inv.channel, inv.deps.templates, name or settings.rounds.default_template
        )
    duration = svc.round_duration(duration_text, template, settings)
    if inv.channel.is_dm:
        raise UserError("Start a round in your group's channel, not in a direct message.")
    # The platform call comes first: a transaction is never held open across the network.
    adapter = inv.deps.adapters.get(inv.channel.platform)
    infos: list[MemberInfo] = await adapter.channel_members(inv.channel) if adapter else []
    now = inv.deps.clock()
    async with inv.deps.db.begin() as session:
        if await _replayed(session, inv):
            return Reply.text(ALREADY_HANDLED)
        group = await groups.ensure_group(
            session, inv.channel, name=inv.channel.channel, timezone=settings.bot.timezone
        )
        audience = await members.ensure_members(
            session, inv.channel.platform, inv.channel.workspace, infos
        )
        opener = await session.get_one(Member, inv.member_id)
        started = await svc.start_round(
            session,
            group=group,
            channel=inv.channel,
            template=template,
            duration=duration,
            opened_by=opener,
            audience=audience,
            now=now,
        )
        round_ = started.round
        away = f" ({_plural(started.skipped_away, 'member')} away, not asked)"
        text = (
            f"Round #{round_.id} *{round_.title}* has started: the questions went to "
            f"{_plural(started.recipients, 'member')} by direct message"
            f"{away if started.skipped_away else ''}. It closes "
            f"{svc.format_time(round_.closes_at, group.timezone)}. Each person chooses who sees "
            f"their answers; `round status {round_.id}` shows how many have answered."
        )
    inv.deps.notify_outbox()
    return Reply.text(text, ephemeral=False)


# --- answer --------------------------------------------------------------------------------


def answer_fields(round_: Round, *, ask_surprise: bool) -> tuple[FormField, ...]:
    questions = tuple(svc.question_field(q, svc.ANSWER_LIMIT) for q in svc.questions_of(round_))
    extra = [
        FormField(
            "visibility",
            "Who may read your answers",
            "select",
            options=VISIBILITIES,
            initial=round_.default_visibility or "group",
            hint="group: the group, quoted anonymously; facilitators; private: only you",
        ),
        FormField(
            "named",
            "Show your name with quotes",
            "select",
            options=("yes", "no"),
            initial="no",
        ),
    ]
    if ask_surprise:
        surprise = FormField(
            "surprise",
            "As expected (0) or surprising (100)?",
            "number",
            required=False,
            max_length=3,
            hint="0 = as expected, 100 = very surprising",
        )
        extra.insert(0, surprise)
    return (*questions, *extra)


def _answer_form(
    round_: Round,
    fields: tuple[FormField, ...],
    existing: dict[str, Response],
    args: Args,
    closes: str,
) -> Form:
    values = {f.name: f.initial for f in fields if f.initial is not None}
    values |= {key: r.text for key, r in existing.items()}
    if existing:
        first = next(iter(existing.values()))
        values |= {"visibility": first.visibility, "named": "yes" if first.named else "no"}
        if first.surprise is not None:
            values["surprise"] = str(first.surprise)
    values |= args.fields
    return Form(
        f"{round_.title} (round #{round_.id})",
        f"answer {round_.id}",
        fields,
        submit_label="Update" if existing else "Save",
        intro=f"{round_.intro}\nAnswer what you can; you can edit your answers until {closes}.",
        values={k: v for k, v in values.items() if v is not None},
    )


async def _round_to_answer(session: AsyncSession, inv: Invocation, words: list[str]) -> Round:
    """The round the person answers, sent to them: by id, else their newest open one."""
    if len(words) > 1:
        raise UserError("Use `answer <round id>`; the id is in the message with the questions.")
    if words:
        round_ = await _round_here(session, inv, parse_id(words[0], "round"), lock=True)
        if not inv.channel.is_dm or inv.role >= Role.FACILITATOR:  # else _round_here checked
            await svc.require_recipient(session, round_, inv.member_id)
        return round_
    mine = await svc.recipient_rounds(session, inv.member_id)
    if not mine:
        raise UserError("You have no open round to answer. Rounds arrive as direct messages.")
    return await svc.get_round(session, mine[0].id, lock=True)


async def answer(inv: Invocation, args: Args) -> Result:
    now = inv.deps.clock()
    async with inv.deps.db.begin() as session:
        round_ = await _round_to_answer(session, inv, args.positional)
        timezone = await _timezone_for(session, inv, round_.group_id)
        svc.check_open(round_, now, timezone)
        template = inv.deps.templates.get(round_.template_key)
        fields = answer_fields(round_, ask_surprise=template.ask_surprise if template else True)
        forms.unknown_fields(fields, args)
        existing = await svc.member_answers(session, round_.id, inv.member_id)
        closes = svc.format_time(round_.closes_at, timezone)
        if not args.fields:
            return _answer_form(round_, fields, existing, args, closes)
        questions = {q.key: q for q in svc.questions_of(round_)}
        keys = list(questions)
        checks: dict[str, forms.Checker] = {
            key: partial(svc.check_answer, questions[key], max_length=svc.ANSWER_LIMIT)
            for key in keys
            if key in args.fields
        }
        checks |= {
            "surprise": lambda v: check_int("surprise", v, low=0, high=100) if v.strip() else None,
            "visibility": lambda v: (
                check_choice("visibility", v, VISIBILITIES) if v.strip() else None
            ),
            "named": lambda v: check_bool("named", v) if v.strip() else None,
        }
        values = forms.validate(args, checks)
        answers = {key: values[key] for key in keys if key in values}
        kept = {k for k in existing if k not in answers} | {k for k, v in answers.items() if v}
        if not kept:
            raise FieldErrors({keys[0]: "Answer at least one question."})
        previous = next(iter(existing.values()), None)
        visibility = Visibility(
            values["visibility"]
            or (previous.visibility if previous else round_.default_visibility or "group")
        )
        named = (
            values["named"] if values["named"] is not None else bool(previous and previous.named)
        )
        surprise = values["surprise"]
        if surprise is None and "surprise" not in args.fields and previous is not None:
            surprise = previous.surprise
        await svc.save_answers(
            session,
            round_,
            inv.member_id,
            answers,
            surprise=surprise,
            visibility=visibility,
            named=named,
            now=now,
        )
    verb = "Updated" if existing else "Saved"
    return Reply.text(
        f"{verb} your answers to round #{round_.id} "
        f"({len(kept)} of {plural(len(keys), 'question')}; "
        f"{svc.sharing_phrase(visibility, named)}). You can edit them until {closes}.",
        buttons=(svc.answer_button(round_.id, edit=True),),
    )


# --- round status / list / templates -------------------------------------------------------


async def round_status(inv: Invocation, args: Args) -> Result:
    facilitator = inv.role >= Role.FACILITATOR
    if not args.positional and not facilitator and inv.group_id is not None:
        # The common case, a member asking in the group's channel: one Core read.
        group_id, member_id = inv.group_id, inv.member_id
        found = await inv.deps.db.read(lambda c: svc.open_status(c, group_id, member_id))
        if found is not None:
            timezone = svc.zone(inv.member_timezone, inv.group_timezone or "UTC").key
            when = f"open, closes {svc.format_time(found.closes_at, timezone)}"
            lines = svc.status_lines(
                found.round_id, found.title, when, found.standing, found.questions
            )
            return Reply.text("\n".join(lines))
    async with inv.deps.db.begin() as session:
        round_ = await _resolve(session, inv, args.positional, "round status [id]")
        timezone = await _timezone_for(session, inv, round_.group_id)
        standing = await svc.standing(session, round_.id, inv.member_id)
        report = await svc.delivery_report(session, round_.id) if facilitator else None
    if round_.state == svc.OPEN:
        when = f"open, closes {svc.format_time(round_.closes_at, timezone)}"
    else:
        when = f"closed on {svc.format_time(round_.closed_at or round_.closes_at, timezone)}"
    lines = svc.status_lines(round_.id, round_.title, when, standing, len(round_.prompts))
    if report is not None:
        lines.append(
            f"Deliveries: {report.sent} sent, {report.pending} pending, {report.failed} failed."
        )
        if report.failures:
            lines.append("Not delivered (only facilitators see this):")
            lines.extend(f"- {name}: {reason}" for name, reason in report.failures)
    return Reply.text("\n".join(lines))


async def round_list(inv: Invocation, args: Args) -> Result:
    if args.positional:
        raise UserError("Use `round list`.")
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        timezone = _reader_timezone(inv, group)
        found = [
            (r, await svc.progress(session, r.id)) for r in await svc.open_rounds(session, group.id)
        ]
    if not found:
        return Reply.text(NO_OPEN_ROUND)
    lines = ["Open rounds here:"]
    lines.extend(
        f"#{r.id} {r.title}: {c.answered} of {c.recipients} answered, closes "
        f"{svc.format_time(r.closes_at, timezone)}"
        for r, c in found
    )
    return Reply.text("\n".join(lines))


# --- round remind / close ------------------------------------------------------------------


async def round_remind(inv: Invocation, args: Args) -> Result:
    now = inv.deps.clock()
    async with inv.deps.db.begin() as session:
        if await _replayed(session, inv):
            return Reply.text(ALREADY_HANDLED)
        round_ = await _resolve(session, inv, args.positional, "round remind [id]")
        group = await session.get_one(Group, round_.group_id)
        svc.check_open(round_, now, _reader_timezone(inv, group))
        number = await svc.manual_reminder_number(session, round_.id, now)
        rid = round_.id
        queued, due = await svc.queue_reminders(
            session, round_, group, lambda m: f"round:{rid}:remind:{number}:{m.id}", now
        )
    if queued:
        inv.deps.notify_outbox()
        return Reply.text(
            f"Reminded {_plural(queued, 'member')} who {'has' if queued == 1 else 'have'} not "
            f"answered round #{rid} yet."
        )
    if not due:
        return Reply.text(
            f"Nobody to remind: everyone asked in round #{rid} has answered or is away."
        )
    return Reply.text(
        f"Everyone without an answer to round #{rid} was reminded less than an hour ago; "
        "nothing was sent again."
    )


async def round_close(inv: Invocation, args: Args) -> Result:
    now = inv.deps.clock()
    async with inv.deps.db.begin() as session:
        if await _replayed(session, inv):
            return Reply.text(ALREADY_HANDLED)
        round_ = await _resolve(session, inv, args.positional, "round close [id]")
        rid = round_.id
        if not await svc.mark_closed(session, rid, now):
            group = await session.get_one(Group, round_.group_id)
            when = svc.format_time(round_.closed_at or now, _reader_timezone(inv, group))
            raise UserError(f"Round #{rid} is already closed (since {when}).")
        counts = await svc.progress(session, rid)
    answered = f"{counts.answered} of {_plural(counts.recipients, 'member')} answered"
    try:
        await svc.finish_round(inv.deps, rid)
    except Exception as exc:  # the round stays closed; the scheduler posts the summary later
        log.error("summary of round %s failed: %s", rid, type(exc).__name__)
        return Reply.text(
            f"Round #{rid} is closed ({answered}). The summary could not be made just now; "
            "it will be posted here automatically shortly."
        )
    return Reply.text(
        f"Round #{rid} is closed ({answered}). The summary is being posted in the channel."
    )


async def round_help(inv: Invocation, args: Args) -> Result:
    lines = [f"No round command '{args.positional[0]}'." if args.positional else "Round commands:"]
    every = (*SPECS, *reminders.SPECS, *templates.SPECS)
    lines.extend(f"  `{spec.usage}`: {spec.summary}" for spec in every if len(spec.path) > 1)
    return Reply.text("\n".join(lines))


SPECS = (
    CommandSpec(
        ("round", "start"),
        "round start [template] [for <duration>]",
        "Send a reflection round to every member of this channel by direct message.",
        round_start,
        params=(
            Param(
                "template",
                "template",
                "The round template (default: the configured one)",
                autocomplete="template",
                example="weekly-reflection",
            ),
            Param(
                "duration",
                "duration",
                "How long it stays open, e.g. 12h, 3d, 2w",
                prefix="for",
                example="3d",
            ),
        ),
        min_role=Role.FACILITATOR,
        details="The template defaults to the configured one; `round templates` lists them. "
        "The duration is e.g. 12h, 3d or 2w.",
    ),
    CommandSpec(
        ("round", "status"),
        "round status [id]",
        "How many have answered (the latest open round when no id is given).",
        round_status,
        params=(id_param("round", "round", "round", required=False),),
    ),
    CommandSpec(
        ("round", "remind"),
        "round remind [id]",
        "Remind by direct message the members who have not answered yet.",
        round_remind,
        params=(id_param("round", "round", "round", required=False),),
        min_role=Role.FACILITATOR,
    ),
    CommandSpec(
        ("round", "close"),
        "round close [id]",
        "Close a round and post the summary of what was shared with the group.",
        round_close,
        params=(id_param("round", "round", "round", required=False),),
        min_role=Role.FACILITATOR,
    ),
    CommandSpec(("round", "list"), "round list", "The open rounds in this channel.", round_list),
    CommandSpec(
        ("round", "templates"),
        "round templates",
        "The round templates, their questions and how long they stay open.",
        template_list,
    ),
    CommandSpec(("round",), "round <command>", "The reflection round commands.", round_help),
    CommandSpec(
        ("answer",),
        "answer [round id] [<question>=… surprise=0-100 "
        "visibility=group|facilitators|private named=yes|no]",
        "Answer (or edit your answers to) a reflection round.",
        answer,
        params=(id_param("round", "round", "round", required=False),),
        details="With no fields a form opens, filled with your answers so far. Questions are "
        "named by their key (e.g. tried=…). An empty value removes that answer. visibility "
        "decides who may read your answers; named=yes shows your name with quotes.",
    ),
)

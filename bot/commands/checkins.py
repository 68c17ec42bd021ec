"""`checkin [<experiment id>]` and `checkin edit <id>`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import forms
from bot.commands.registry import Args, CommandSpec, Result
from bot.commands.values import check_choice, check_int, check_text, parse_id
from bot.domain import Button, Form, FormField, Reply
from bot.domain.params import id_param
from bot.errors import FieldErrors, UserError
from bot.services import checkins, experiments, groups, privacy, scope
from bot.services.context import Invocation
from bot.store.models import CheckIn, Experiment

FIELDS = (
    FormField("happened", "What happened", "long_text", max_length=2000),
    FormField("learned", "What you learned", "long_text", required=False, max_length=2000),
    FormField("next", "What you will try next", "long_text", required=False, max_length=2000),
    FormField(
        "surprise",
        "As expected (0) ↔ surprising (100)",
        "number",
        max_length=3,
        initial="50",
        hint="0 to 100",
    ),
    FormField(
        "confidence",
        "Hypothesis weaker (0) ↔ stronger (100)",
        "number",
        max_length=3,
        initial="50",
        hint="0 to 100",
    ),
    forms.visibility_field("group: the group; facilitators: facilitators only; private: only you"),
    forms.named_field("no: quoted anonymously, under a label that lasts one digest"),
)
EXPERIMENT_NAME = "experiment"
MAX_CHOICES = 100  # platforms cap select menus around here
INTRO = "Sliders: how surprising was it, and did it make the hypothesis weaker or stronger?"

CHECKS: dict[str, forms.Checker] = {
    "happened": lambda v: check_text("happened", v, max_length=2000),
    "learned": lambda v: check_text("learned", v, max_length=2000, required=False),
    "next": lambda v: check_text("next", v, max_length=2000, required=False),
    "surprise": lambda v: check_int("surprise", v, low=0, high=100),
    "confidence": lambda v: check_int("confidence", v, low=0, high=100),
    "visibility": lambda v: check_choice("visibility", v or "group", privacy.VISIBILITIES),
    "named": lambda v: check_choice("named", v or "no", ("yes", "no")) == "yes",
}


def _data(args: Args) -> checkins.CheckInData:
    values: dict[str, Any] = forms.validate(args, CHECKS)
    return checkins.CheckInData(**values)


def _experiment_field(choices: list[Experiment]) -> FormField:
    hint = "; ".join(f"#{e.id} {e.title[:40]}" for e in choices)
    return FormField(
        EXPERIMENT_NAME,
        "Experiment",
        "select",
        options=tuple(str(e.id) for e in choices),
        max_length=10,
        hint=hint[:500],
    )


def _saved(
    checkin: CheckIn | checkins.Saved, experiment_id: int, verb: str, *, repeat: bool = False
) -> Reply:
    quoted = "by name" if checkin.named else "anonymously"
    text = (
        f"{verb} check-in #{checkin.id} on experiment #{experiment_id} — visible to "
        f"{privacy.audience(checkin.visibility)}"
        + (f", quoted {quoted}." if checkin.visibility == "group" else ".")
    )
    buttons = (Button("Edit", f"checkin edit {checkin.id}"),)
    return Reply.text(text, buttons=buttons, repeat=repeat)


async def _chosen(
    inv: Invocation, args: Args, session: AsyncSession
) -> tuple[Experiment | None, list[Experiment]]:
    """The experiment this check-in is for, or None and the running ones to choose from."""
    typed = args.fields.get(EXPERIMENT_NAME, "").strip()
    if args.positional:
        experiment = await experiments.find_experiment(
            session, parse_id(args.positional[0], "experiment"), await scope.here(session, inv)
        )
    elif typed:
        try:
            where = await scope.here(session, inv)
            experiment = await experiments.find_experiment(
                session, parse_id(typed, "experiment"), where
            )
            experiments.require_running(experiment)
        except UserError as exc:
            raise FieldErrors({EXPERIMENT_NAME: str(exc)}) from None
    else:
        group = None if inv.channel.is_dm else await groups.group_for_channel(session, inv.channel)
        group_id = group.id if group is not None else None
        if group_id is None and not inv.channel.is_dm:
            raise UserError("No experiments here yet. Start one with `experiment new`.")
        theirs, offered = await experiments.running_choices(session, group_id, inv.member_id)
        if len(theirs) == 1:
            return theirs[0], offered
        if not theirs and len(offered) == 1:
            return offered[0], offered
        if not offered:
            raise UserError(
                "There is no running experiment to check in on. Start one with `experiment new`."
            )
        return None, offered[-MAX_CHOICES:]
    experiments.require_running(experiment)
    return experiment, [experiment]


async def _saved_at_once(inv: Invocation, args: Args) -> checkins.Saved | None:
    """The common check-in, its id given and every field valid, in a group's channel or a DM:
    saved in one statement if its experiment is running here. None sends the command the long
    way (`_chosen`, then `record`), which also tells a replay and explains what is wrong."""
    if forms.missing(FIELDS, args) or (inv.group_id is None and not inv.channel.is_dm):
        return None
    typed = args.positional[0] if args.positional else args.fields.get(EXPERIMENT_NAME, "")
    try:
        experiment_id = parse_id(typed.strip(), "experiment")
        data = _data(args)
    except UserError:
        return None  # reported the long way, in its order (the experiment first)
    group_id = None if inv.channel.is_dm else inv.group_id

    async def save(session: AsyncSession) -> checkins.Saved | None:
        return await checkins.record_if_running(
            session,
            experiment_id,
            inv.member_id,
            group_id,
            data,
            source_key=inv.source_key,
            now=inv.deps.clock(),
        )

    return await inv.deps.db.write(save)


async def checkin(inv: Invocation, args: Args) -> Result:
    if len(args.positional) > 1:
        raise UserError("Usage: `checkin [<experiment id>] [happened=… surprise=… …]`.")
    forms.unknown_fields((*FIELDS, _experiment_field([])), args)
    if args.positional and args.fields.get(EXPERIMENT_NAME, "").strip():
        raise UserError("Give the experiment id once: either `checkin <id>` or experiment=<id>.")
    at_once = await _saved_at_once(inv, args)
    if at_once is not None:
        return _saved(at_once, at_once.experiment_id, "Saved")
    async with inv.deps.db.begin() as session:
        try:
            experiment, offered = await _chosen(inv, args, session)
        except UserError:
            # A replay finds its first check-in even once the experiment has concluded; the
            # common case learns it is a replay from the write itself (checkins.record).
            replay = await checkins.find_by_source(session, inv.source_key or "")
            if inv.source_key and replay is not None:
                return _saved(replay, replay.experiment_id, "Already saved", repeat=True)
            raise
        if experiment is None:
            fields = (_experiment_field(offered), *FIELDS)
            return forms.ask("Check-in", "checkin", fields, args, intro=INTRO)
        if forms.missing(FIELDS, args):
            title = f"Check-in on #{experiment.id}"
            intro = f"{experiment.title}\n{INTRO}"
            values = {k: v for k, v in args.fields.items() if k != EXPERIMENT_NAME}
            return forms.ask(
                title, f"checkin {experiment.id}", FIELDS, Args([], values), intro=intro
            )
        data = _data(args)

    # The write alone is committed together with other commands' writes: a wave of check-ins
    # is a few transactions, not one each (bot/store/groupcommit.py).
    async def save(session: AsyncSession) -> tuple[CheckIn, bool]:
        return await checkins.record(
            session,
            experiment,
            inv.member_id,
            data,
            source_key=inv.source_key,
            now=inv.deps.clock(),
        )

    saved, created = await inv.deps.db.write(save)
    if not created:  # its source key was seen: the same delivery, again
        return _saved(saved, saved.experiment_id, "Already saved", repeat=True)
    return _saved(saved, saved.experiment_id, "Saved")


async def checkin_edit(inv: Invocation, args: Args) -> Result:
    if len(args.positional) != 1:
        raise UserError("Usage: `checkin edit <check-in id> [happened=… surprise=… …]`.")
    checkin_id = parse_id(args.positional[0], "check-in")
    forms.unknown_fields(FIELDS, args)
    async with inv.deps.db.begin() as session:
        where = await scope.here(session, inv)
        current = await checkins.get_own(session, checkin_id, inv.member_id, where)
        if not args.fields:
            return Form(
                f"Edit check-in #{current.id}",
                f"checkin edit {current.id}",
                FIELDS,
                intro=INTRO,
                values=checkins.as_fields(current),
            )
        merged = Args([], {**checkins.as_fields(current), **args.fields}, args.rejected)
        updated = await checkins.edit(
            session, checkin_id, inv.member_id, _data(merged), now=inv.deps.clock()
        )
    return _saved(updated, updated.experiment_id, "Updated")


SPECS = (
    CommandSpec(
        ("checkin",),
        "checkin [<experiment id>] [happened=… learned=… next=… surprise=0-100 "
        "confidence=0-100 visibility=group|facilitators|private named=yes|no]",
        "Log what happened in a running experiment, with how surprising it was.",
        checkin,
        params=(id_param("experiment", "experiment", "experiment", required=False),),
        fields=FIELDS,
        keyed=True,  # a repeated delivery finds its check-in by source key
        details=(
            "Without an id: your one running experiment here, or a form to choose one "
            "(inline: experiment=<id>)."
        ),
    ),
    CommandSpec(
        ("checkin", "edit"),
        "checkin edit <check-in id> [fields…]",
        "Change one of your check-ins.",
        checkin_edit,
        params=(id_param("checkin", "check-in"),),
        fields=FIELDS,
    ),
)

"""`experiment new|list|show|conclude|adopt`."""

from __future__ import annotations

from bot.commands import forms
from bot.commands.registry import Args, CommandSpec, Result
from bot.commands.values import check_choice, check_text, parse_id
from bot.domain import FormField, Reply
from bot.domain.params import id_param
from bot.domain.plural import plural
from bot.errors import FieldErrors, NotFound, UserError
from bot.services import checkins, events, experiments, groups, privacy, scope
from bot.services.context import Invocation

NEW_FIELDS = (
    FormField("title", "Title", max_length=200, hint="e.g. Cardiogram first, questions later"),
    FormField("hypothesis", "Hypothesis: what we believe", "long_text", max_length=2000),
    FormField("try", "What we try", "long_text", max_length=2000),
    FormField("expect", "What we expect to see", "long_text", max_length=2000),
    FormField("cycle", "Learning cycle id", required=False, max_length=10, hint="optional"),
)
CONCLUDE_FIELDS = (
    FormField("learned", "What we learned", "long_text", max_length=2000),
    FormField(
        "verdict",
        "The hypothesis is now",
        "select",
        options=experiments.VERDICTS,
        initial="unchanged",
    ),
)
USAGE = (
    "Experiments: `experiment new`, `experiment list`, `experiment show <id>`, "
    "`experiment conclude <id>`, `experiment adopt <id>`."
)


def _one_id(args: Args, usage: str) -> int:
    if len(args.positional) != 1:
        raise UserError(f"Usage: `{usage}`.")
    return parse_id(args.positional[0], "experiment")


async def experiment_new(inv: Invocation, args: Args) -> Result:
    if args.positional:
        raise UserError('Give the fields as field=value, e.g. title="…", or leave them out.')
    forms.unknown_fields(NEW_FIELDS, args)
    if forms.missing(NEW_FIELDS, args):
        return forms.ask("New experiment", "experiment new", NEW_FIELDS, args)
    values = forms.validate(
        args,
        {
            "title": lambda v: check_text("title", v, max_length=200),
            "hypothesis": lambda v: check_text("hypothesis", v, max_length=2000),
            "try": lambda v: check_text("try", v, max_length=2000),
            "expect": lambda v: check_text("expect", v, max_length=2000),
            "cycle": lambda v: parse_id(v, "cycle") if v.strip() else None,
        },
    )
    async with inv.deps.db.begin() as session:
        group = await groups.ensure_group(
            session, inv.channel, name=inv.channel.channel, timezone=inv.deps.settings.bot.timezone
        )
        if inv.source_key and not await events.claim_event(
            session, str(inv.actor.platform), f"experiment-new:{inv.source_key}"
        ):
            return Reply.text("Already saved: this form was submitted before. `experiment list`.")
        try:
            experiment = await experiments.create_experiment(
                session,
                group,
                title=values["title"],
                hypothesis=values["hypothesis"],
                try_=values["try"],
                expect=values["expect"],
                cycle_id=values["cycle"],
                owner_id=inv.member_id,
                now=inv.deps.clock(),
            )
        except NotFound as exc:
            raise FieldErrors({"cycle": str(exc)}) from None
        text = (
            f"Experiment #{experiment.id} *{experiment.title}* started by "
            f"{inv.actor.display_name}.\nHypothesis: {experiment.hypothesis}\n"
            f"We try: {experiment.try_}\nWe expect: {experiment.expect}\n"
            f"Log what happens with `checkin {experiment.id}`."
        )
    return Reply.text(text, ephemeral=False)


def _line(row: experiments.ExperimentRow, *, with_group: bool) -> str:
    e = row.experiment
    owner = row.owner_name or "no owner"
    cycle = f"cycle #{e.cycle_id} {row.cycle_name}" if e.cycle_id else "no cycle"
    where = f", in {row.group_name}" if with_group else ""
    return (
        f"#{e.id} {e.title} [{e.status}] by {owner}, {cycle}{where}, "
        f"{plural(row.checkins, 'check-in')}"
    )


async def experiment_list(inv: Invocation, args: Args) -> Result:
    async with inv.deps.db.begin() as session:
        if inv.channel.is_dm:
            rows = await experiments.list_owned(session, inv.member_id, viewer_role=inv.role)
            heading, empty = "Your experiments:", "You own no experiments yet."
        else:
            group = await groups.group_for_channel(session, inv.channel)
            rows = (
                []
                if group is None
                else await experiments.list_group(
                    session, group.id, viewer_id=inv.member_id, viewer_role=inv.role
                )
            )
            heading, empty = "Experiments in this group:", "No experiments here yet."
    if not rows:
        return Reply.text(f"{empty} Start one with `experiment new`.")
    lines = [heading, *(_line(r, with_group=inv.channel.is_dm) for r in rows)]
    return Reply.text("\n".join(lines))


async def experiment_show(inv: Invocation, args: Args) -> Result:
    experiment_id = _one_id(args, "experiment show <id>")
    async with inv.deps.db.begin() as session:
        where = await scope.here(session, inv)
        await experiments.find_experiment(session, experiment_id, where)
        row = await experiments.detail(session, experiment_id)
        e = row.experiment
        in_group = e.owner_id == inv.member_id or where.in_group(e.group_id)
        entries, total = await checkins.visible_on(
            session, e, viewer_id=inv.member_id, viewer_role=inv.role, in_group=in_group
        )
        lines = [
            f"Experiment #{e.id} *{e.title}* [{e.status}] in {row.group_name}",
            f"Owner: {row.owner_name or 'no owner'}"
            + (f" · cycle #{e.cycle_id} {row.cycle_name}" if e.cycle_id else "")
            + f" · started {e.started_at.date().isoformat()}",
        ]
        if e.adopted_from_id is not None:
            lines.append(f"Adopted from experiment #{e.adopted_from_id}.")
        lines += [f"Hypothesis: {e.hypothesis}", f"We try: {e.try_}", f"We expect: {e.expect}"]
        if e.status == experiments.CONCLUDED:
            when = e.concluded_at.date().isoformat() if e.concluded_at else ""
            lines.append(f"Concluded {when}: hypothesis {e.verdict}. Learned: {e.learned}")
    lines.append(_checkins_heading(len(entries), total, in_group))
    lines.extend(_entry(v) for v in entries)
    return Reply.text("\n".join(lines))


def _checkins_heading(shown: int, total: int, in_group: bool) -> str:
    scope = "you can see" if in_group else "of yours (the group's are shown in its channel)"
    if total == 0:
        return f"No check-ins {scope}."
    more = f", the latest {shown} shown" if shown < total else ""
    return f"Check-ins {scope}: {total}{more}"


def _entry(v: checkins.VisibleCheckIn) -> str:
    c = v.checkin
    seen = "" if c.visibility == "group" else f" [visible to {privacy.audience(c.visibility)}]"
    parts = [
        f"#{c.id} {c.created_at.date().isoformat()} {v.author}{seen} "
        f"(surprise {c.surprise}, confidence {c.confidence}): {c.happened}"
    ]
    if c.learned:
        parts.append(f"Learned: {c.learned}")
    if c.next:
        parts.append(f"Next: {c.next}")
    return " · ".join(parts)


async def experiment_conclude(inv: Invocation, args: Args) -> Result:
    experiment_id = _one_id(args, "experiment conclude <id> [learned=… verdict=…]")
    forms.unknown_fields(CONCLUDE_FIELDS, args)
    async with inv.deps.db.begin() as session:
        where = await scope.here(session, inv)
        experiment = await experiments.find_experiment(session, experiment_id, where)
        event = f"experiment-conclude:{inv.source_key}"
        platform = str(inv.actor.platform)
        if (
            inv.source_key
            and experiment.status == experiments.CONCLUDED
            and not await events.claim_event(session, platform, event)
        ):
            return Reply.text(f"Already saved: experiment #{experiment.id} is concluded.")
        experiments.check_may_conclude(experiment, inv.member_id, inv.role)
        if forms.missing(CONCLUDE_FIELDS, args):
            return forms.ask(
                f"Conclude experiment #{experiment.id}",
                f"experiment conclude {experiment.id}",
                CONCLUDE_FIELDS,
                args,
                intro=f"Hypothesis: {experiment.hypothesis}"[:2000],
            )
        values = forms.validate(
            args,
            {
                "learned": lambda v: check_text("learned", v, max_length=2000),
                "verdict": lambda v: check_choice("verdict", v, experiments.VERDICTS),
            },
        )
        if inv.source_key:
            await events.claim_event(session, platform, event)
        await experiments.conclude(
            session,
            experiment.id,
            member_id=inv.member_id,
            role=inv.role,
            learned=values["learned"],
            verdict=values["verdict"],
            now=inv.deps.clock(),
        )
        here = where.in_group(experiment.group_id)
    text = (
        f"Experiment #{experiment.id} *{experiment.title}* concluded: the hypothesis is "
        f"{experiment.verdict}. Learned: {experiment.learned}"
    )
    return Reply.text(text, ephemeral=not here)


async def experiment_adopt(inv: Invocation, args: Args) -> Result:
    experiment_id = _one_id(args, "experiment adopt <id>")
    async with inv.deps.db.begin() as session:
        group = await groups.ensure_group(
            session, inv.channel, name=inv.channel.channel, timezone=inv.deps.settings.bot.timezone
        )
        original, copy = await experiments.adopt(
            session, experiment_id, group, member_id=inv.member_id, now=inv.deps.clock()
        )
        source = await experiments.detail(session, original.id)
    text = (
        f"Experiment #{copy.id} *{copy.title}* adopted from #{original.id} "
        f"({source.group_name}) by {inv.actor.display_name}: we run it here to see for "
        f"ourselves.\nHypothesis: {copy.hypothesis}\nLog what happens with `checkin {copy.id}`."
    )
    return Reply.text(text, ephemeral=False)


async def experiment_usage(inv: Invocation, args: Args) -> Result:
    if args.positional:
        raise UserError(f"Unknown experiment command '{args.positional[0][:40]}'. {USAGE}")
    return Reply.text(USAGE)


SPECS = (
    CommandSpec(("experiment",), "experiment", "The experiment commands.", experiment_usage),
    CommandSpec(
        ("experiment", "new"),
        "experiment new [title=… hypothesis=… try=… expect=… cycle=…]",
        "Start an experiment: what you believe, what you try, what you expect.",
        experiment_new,
        fields=NEW_FIELDS,
    ),
    CommandSpec(
        ("experiment", "list"),
        "experiment list",
        "The group's experiments (in a DM: your own, in every group).",
        experiment_list,
    ),
    CommandSpec(
        ("experiment", "show"),
        "experiment show <id>",
        "An experiment and the check-ins you may see.",
        experiment_show,
        params=(id_param("experiment", "experiment", "experiment"),),
    ),
    CommandSpec(
        ("experiment", "conclude"),
        "experiment conclude <id> [learned=… verdict=weaker|unchanged|stronger]",
        "Close an experiment with what was learned (its owner or a facilitator).",
        experiment_conclude,
        params=(id_param("experiment", "experiment", "experiment"),),
        fields=CONCLUDE_FIELDS,
    ),
    CommandSpec(
        ("experiment", "adopt"),
        "experiment adopt <id>",
        "Run another group's experiment here too, linked to the original.",
        experiment_adopt,
        params=(id_param("experiment", "experiment", "experiment"),),
    ),
)

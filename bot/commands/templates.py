"""`round template new|edit|remove|list` (and `round templates`): a group's own round templates,
written in chat as forms. The shipped templates stay as defaults; a group's own template with
the same key takes their place for that group. Rounds copy their template when they start, so
nothing here changes a round already open."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import cast

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.commands import forms
from bot.commands.registry import Args, CommandSpec, Result
from bot.commands.values import check_choice, check_text, parse_duration
from bot.domain import FormField, Reply, Role, Visibility
from bot.domain.params import Param
from bot.domain.plural import plural
from bot.errors import FieldErrors, UserError
from bot.services import groups
from bot.services import templates as svc
from bot.services.context import Invocation
from bot.services.events import claim_event
from bot.services.templates import (
    AnswersVisibleTo,
    PromptSpec,
    QuestionKind,
    RoundTemplateSpec,
)
from bot.store.models import Group

VISIBILITIES = tuple(str(v) for v in Visibility)
MAX_QUESTIONS = 5
MIN_QUESTION = 3  # characters, as shipped templates have them
KEY = re.compile(r"^[a-z][a-z0-9-]{0,63}$")
# Options and poles are typed on one line: "Intake | Triage | Follow-up", "calm | stressed".
SEPARATOR = re.compile(r"\s*[|\n]\s*")
OPTIONS_HINT = "a | b | c, or low | high"


def _fields(*, new: bool) -> tuple[FormField, ...]:
    out = [
        FormField("name", "Name", max_length=200, hint="e.g. Fortnightly retro"),
        FormField("intro", "Intro", "long_text", required=False, max_length=2000),
        FormField(
            "duration",
            "Open for (default)",
            required=False,
            max_length=10,
            initial="3d",
            hint="e.g. 12h, 3d, 2w",
        ),
        FormField(
            "visibility",
            "Answers visible to (default)",
            "select",
            required=False,
            options=VISIBILITIES,
            initial="group",
        ),
    ]
    if new:
        key = FormField(
            "key",
            "Key",
            required=False,
            max_length=64,
            hint="made from the name when empty",
        )
        out.insert(1, key)
    for n in range(1, MAX_QUESTIONS + 1):
        out += [
            FormField(f"q{n}", f"Question {n}", required=False, max_length=500),
            FormField(
                f"q{n}_kind",
                f"Question {n} kind",
                "select",
                required=False,
                options=svc.QUESTION_KINDS,
                initial="text",
            ),
            FormField(
                f"q{n}_options",
                f"Question {n} options",
                required=False,
                max_length=800,
                hint=OPTIONS_HINT,
            ),
        ]
    return tuple(out)


NEW_FIELDS = _fields(new=True)
EDIT_FIELDS = _fields(new=False)


def _replayed_key(inv: Invocation) -> tuple[str, str] | None:
    return None if inv.source_key is None else (str(inv.channel.platform), inv.source_key)


def form_values(spec: RoundTemplateSpec) -> dict[str, str]:
    """A template as the form shows it, to edit."""
    values = {
        "name": spec.title,
        "intro": spec.intro,
        "duration": spec.default_duration,
        "visibility": spec.default_visibility,
    }
    for n, prompt in enumerate(spec.prompts, start=1):
        values[f"q{n}"] = prompt.text
        values[f"q{n}_kind"] = prompt.kind
        poles = (prompt.low, prompt.high) if prompt.kind == "dyad" else ()
        values[f"q{n}_options"] = " | ".join(prompt.options or poles)
    return values


def slug(name: str) -> str:
    """A key made from a name: 'Fortnightly retro!' -> 'fortnightly-retro'."""
    words = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return words.lstrip("0123456789-")[:64].rstrip("-")


def _question(n: int, values: dict[str, str], errors: dict[str, str]) -> PromptSpec | None:
    text = values.get(f"q{n}", "").strip()
    kind_text = values.get(f"q{n}_kind", "").strip() or "text"
    parts = [p for p in SEPARATOR.split(values.get(f"q{n}_options", "").strip()) if p]
    if not text:
        if parts:
            errors[f"q{n}"] = f"Write question {n}, or clear its options."
        return None
    try:
        text = check_text(f"Question {n}", text, max_length=500)
        if len(text) < MIN_QUESTION:
            raise UserError(f"Question {n} needs at least {MIN_QUESTION} characters.")
    except UserError as exc:
        errors[f"q{n}"] = str(exc)
        return None
    try:
        kind = cast(QuestionKind, check_choice(f"Question {n} kind", kind_text, svc.QUESTION_KINDS))
    except UserError as exc:
        errors[f"q{n}_kind"] = str(exc)
        return None
    where = f"q{n}_options"
    if kind == "text" and parts:
        errors[where] = "Only choice and dyad questions take options; set the kind or clear them."
        return None
    if kind == "dyad" and len(parts) != 2:
        errors[where] = "A dyad takes its two poles, low | high, e.g. as expected | surprising."
        return None
    try:
        if kind == "dyad":
            return PromptSpec(key=f"q{n}", text=text, kind="dyad", low=parts[0], high=parts[1])
        return PromptSpec(key=f"q{n}", text=text, kind=kind, options=tuple(parts))
    except ValidationError as exc:
        reason = str(exc.errors()[0]["msg"]).removeprefix("Value error, ")
        errors[where] = reason[:1].upper() + reason[1:] + "."
        return None


def parse_template(key: str, values: dict[str, str], max_days: int) -> RoundTemplateSpec:
    """The form's values as a template; every problem is reported on its field."""
    errors: dict[str, str] = {}
    name = intro = duration = visibility = ""
    try:
        name = check_text("Name", values.get("name", ""), max_length=200)
    except UserError as exc:
        errors["name"] = str(exc)
    try:
        intro = check_text("Intro", values.get("intro", ""), max_length=2000, required=False)
    except UserError as exc:
        errors["intro"] = str(exc)
    try:
        duration = values.get("duration", "").strip() or "3d"
        if parse_duration(duration) > timedelta(days=max_days):
            raise UserError(f"A round can stay open at most {plural(max_days, 'day')}.")
    except UserError as exc:
        errors["duration"] = str(exc)
    try:
        visibility = check_choice(
            "visibility", values.get("visibility", "").strip() or "group", VISIBILITIES
        )
    except UserError as exc:
        errors["visibility"] = str(exc)
    prompts = [
        q for n in range(1, MAX_QUESTIONS + 1) if (q := _question(n, values, errors)) is not None
    ]
    if not prompts and not any(k.startswith("q") for k in errors):
        errors["q1"] = "Write at least one question."
    if errors:
        raise FieldErrors(errors)
    return RoundTemplateSpec(
        key=key,
        title=name,
        intro=intro,
        default_duration=duration,
        default_visibility=cast(AnswersVisibleTo, visibility),
        prompts=tuple(prompts),
    )


def _describe(spec: RoundTemplateSpec) -> str:
    kinds = [p.kind for p in spec.prompts]
    counted = ", ".join(
        plural(
            kinds.count(k), {"text": "free-text question", "choice": "choice", "dyad": "dyad"}[k]
        )
        for k in svc.QUESTION_KINDS
        if k in kinds
    )
    return f"*{spec.title}* (`{spec.key}`): {counted}; open for {spec.default_duration}"


async def _group(inv: Invocation, session: AsyncSession) -> Group:
    return await groups.ensure_group(
        session, inv.channel, name=inv.channel.channel, timezone=inv.deps.settings.bot.timezone
    )


def _here(inv: Invocation) -> None:
    if inv.channel.is_dm:
        raise UserError("Templates belong to a group: use this in your group's channel.")


async def template_new(inv: Invocation, args: Args) -> Result:
    _here(inv)
    forms.unknown_fields(NEW_FIELDS, args)
    if args.positional:
        raise UserError("Use `round template new`; the key is a field of the form (key=…).")
    if forms.missing(NEW_FIELDS, args):
        return forms.ask("New round template", "round template new", NEW_FIELDS, args)
    raw_key = args.fields.get("key", "").strip().lower() or slug(args.fields.get("name", ""))
    if not KEY.match(raw_key):
        raise FieldErrors(
            {"key": "A key is a lower-case letter, then letters, digits or dashes (up to 64)."}
        )
    spec = parse_template(raw_key, args.fields, inv.deps.settings.rounds.max_duration_days)
    async with inv.deps.db.begin() as session:
        replay = _replayed_key(inv)
        if replay and not await claim_event(session, *replay):
            return Reply.text("That request was already handled.")
        group = await _group(inv, session)
        own = await svc.own_templates(session, group.id)
        if spec.key in own:
            raise FieldErrors(
                {
                    "key": f"This group has a template '{spec.key}' already; "
                    f"`round template edit {spec.key}` changes it."
                }
            )
        if spec.key in inv.deps.templates:
            raise FieldErrors(
                {
                    "key": f"'{spec.key}' is a shipped template; `round template edit {spec.key}` "
                    "makes this group's own version of it."
                }
            )
        await svc.save_template(
            session, group.id, spec, member_id=inv.member_id, now=inv.deps.clock()
        )
    return Reply.text(
        f"Saved {_describe(spec)}. It is this group's own; start it with `round start {spec.key}`.",
        ephemeral=False,
    )


async def _known(inv: Invocation, args: Args, usage: str) -> tuple[str, RoundTemplateSpec, bool]:
    """The template named, as this group sees it, and whether it is the group's own."""
    if len(args.positional) != 1:
        raise UserError(f"Use `{usage}`; `round template list` shows the keys.")
    key = args.positional[0].strip().lower()
    async with inv.deps.db.begin() as session:
        group = await groups.group_for_channel(session, inv.channel)
        own = await svc.own_templates(session, group.id) if group is not None else {}
    if key in own:
        return key, own[key], True
    if key in inv.deps.templates:
        return key, inv.deps.templates[key], False
    known = ", ".join(sorted(set(own) | set(inv.deps.templates)))
    raise UserError(f"There is no round template '{key}' here. Templates: {known}.")


async def template_edit(inv: Invocation, args: Args) -> Result:
    _here(inv)
    forms.unknown_fields(EDIT_FIELDS, args)
    key, current, _ = await _known(inv, args, "round template edit <key>")
    values = form_values(current)
    if not args.fields:
        return forms.ask(
            f"Edit round template {key}",
            f"round template edit {key}",
            EDIT_FIELDS,
            Args([], values),
            intro="Rounds already open keep the questions they started with.",
        )
    # Fields not typed inline keep what the template has (a form sends them all).
    spec = parse_template(
        key, {**values, **args.fields}, inv.deps.settings.rounds.max_duration_days
    )
    async with inv.deps.db.begin() as session:
        replay = _replayed_key(inv)
        if replay and not await claim_event(session, *replay):
            return Reply.text("That request was already handled.")
        group = await _group(inv, session)
        await svc.save_template(
            session, group.id, spec, member_id=inv.member_id, now=inv.deps.clock()
        )
    shipped = " in place of the shipped one" if key in inv.deps.templates else ""
    return Reply.text(
        f"Saved {_describe(spec)}, this group's own{shipped}. Rounds already open keep the "
        "questions they started with.",
        ephemeral=False,
    )


async def template_remove(inv: Invocation, args: Args) -> Result:
    _here(inv)
    if len(args.positional) != 1:
        raise UserError("Use `round template remove <key>`; `round template list` shows the keys.")
    key = args.positional[0].strip().lower()
    async with inv.deps.db.begin() as session:
        replay = _replayed_key(inv)
        if replay and not await claim_event(session, *replay):
            return Reply.text("That request was already handled.")
        group = await groups.require_group(session, inv.channel)
        if not await svc.remove_template(session, group.id, key):
            if key in inv.deps.templates:
                raise UserError(
                    f"'{key}' is a shipped template: it cannot be removed, only replaced with "
                    f"`round template edit {key}`."
                )
            raise UserError(
                f"This group has no template '{key}' of its own; `round template list` shows them."
            )
        if group.round_schedule and group.round_schedule_template == key:
            # The removal rolls back with this refusal.
            raise UserError(
                f"The round schedule here starts '{key}'. Change it with `round schedule` or "
                "stop it with `round unschedule` first."
            )
    back = f" The shipped '{key}' is used here again." if key in inv.deps.templates else ""
    return Reply.text(
        f"Removed this group's template '{key}'. Rounds already open keep their questions.{back}",
        ephemeral=False,
    )


async def template_list(inv: Invocation, args: Args) -> Result:
    if args.positional:
        raise UserError("Use `round template list`.")
    async with inv.deps.db.begin() as session:
        group = None if inv.channel.is_dm else await groups.group_for_channel(session, inv.channel)
        own = await svc.own_templates(session, group.id) if group is not None else {}
    default = inv.deps.settings.rounds.default_template
    merged = {**inv.deps.templates, **own}
    lines = ["Round templates (`round start <template> [for <duration>]`):"]
    for key, spec in sorted(merged.items()):
        marks = [f"open for {spec.default_duration}"]
        if key == default:
            marks.append("the default")
        if key in own:
            marks.append("this group's own" + (" version" if key in inv.deps.templates else ""))
        lines.append(f"*{key}*: {spec.title} ({', '.join(marks)})")
        for n, p in enumerate(spec.prompts, start=1):
            hint = {"choice": f" [{' / '.join(p.options)}]", "dyad": f" [0 {p.low} … 100 {p.high}]"}
            lines.append(f"    {n}. {p.text}{hint.get(p.kind, '')}")
    return Reply.text("\n".join(lines))


async def template_help(inv: Invocation, args: Args) -> Result:
    head = f"No round template command '{args.positional[0]}'." if args.positional else None
    lines = [head or "Round template commands:"]
    lines.extend(f"  `{spec.usage}`: {spec.summary}" for spec in SPECS if len(spec.path) > 2)
    return Reply.text("\n".join(lines))


_KEY_PARAM = Param(
    "key",
    "template",
    "The template's key (`round template list`)",
    required=True,
    autocomplete="template",
    example="weekly-reflection",
)

SPECS = (
    CommandSpec(
        ("round", "template", "new"),
        "round template new [fields…]",
        "Write a round template for this group: up to five questions (text, choice or dyad).",
        template_new,
        fields=NEW_FIELDS,
        min_role=Role.FACILITATOR,
        details="Fields: name, key, intro, duration, visibility, and q1…q5 with q1_kind "
        "(text, choice or dyad) and q1_options: a choice's options split by |, or a dyad's two "
        "poles, low | high. The key defaults to one made from the name.",
    ),
    CommandSpec(
        ("round", "template", "edit"),
        "round template edit <key> [fields…]",
        "Change one of this group's templates, or make its own version of a shipped one.",
        template_edit,
        fields=EDIT_FIELDS,
        params=(_KEY_PARAM,),
        min_role=Role.FACILITATOR,
        details="Rounds already open keep the questions they started with.",
    ),
    CommandSpec(
        ("round", "template", "remove"),
        "round template remove <key>",
        "Remove one of this group's own templates (a shipped one of that key comes back).",
        template_remove,
        params=(_KEY_PARAM,),
        min_role=Role.FACILITATOR,
    ),
    CommandSpec(
        ("round", "template", "list"),
        "round template list",
        "The templates this group can start, its own marked.",
        template_list,
    ),
    CommandSpec(
        ("round", "template"),
        "round template <command>",
        "The commands for this group's own round templates.",
        template_help,
    ),
)

"""Forms with inline fallback: a command either has all its fields, or it asks with a Form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.commands.registry import Args
from bot.domain import Form, FormField
from bot.domain.text import clean
from bot.errors import FieldErrors, UserError
from bot.services.privacy import VISIBILITIES

Checker = Callable[[str], Any]


def clean_args(
    fields: tuple[FormField, ...], positional: list[str], values: dict[str, str]
) -> Args:
    """Every field value, typed inline or submitted in a form, made plain (bot.domain.text);
    only long-text fields keep line breaks and tabs. A value that had something in it and is
    empty once cleaned is rejected on its field (see `validate`), not saved blank or asked for
    again."""
    long_text = {f.name for f in fields if f.kind == "long_text"}
    known = {f.name for f in fields}
    args = Args(positional)
    for name, value in values.items():
        # A round's questions are not among the spec's fields: they are long text too.
        args.fields[name] = clean(value, multiline=name in long_text or name not in known)
        if value.strip() and not args.fields[name].strip():
            args.rejected[name] = f"{name} is empty: it holds only invisible or control characters."
    return args


def missing(fields: tuple[FormField, ...], args: Args) -> bool:
    return any(
        f.required and not args.fields.get(f.name, "").strip() and f.name not in args.rejected
        for f in fields
    )


def unknown_fields(fields: tuple[FormField, ...], args: Args) -> None:
    known = {f.name for f in fields}
    extra = sorted(set(args.fields) - known)
    if extra:
        names = ", ".join(f.name for f in fields) or "none"
        raise UserError(f"Unknown field {extra[0]!r}. Fields here: {names}.")


def ask(title: str, command: str, fields: tuple[FormField, ...], args: Args, **kw: Any) -> Form:
    """A form prefilled with whatever the person already typed inline."""
    initial = {f.name: f.initial for f in fields if f.initial is not None}
    return Form(title, command, fields, values={**initial, **args.fields}, **kw)


def validate(args: Args, checks: dict[str, Checker]) -> dict[str, Any]:
    """Run each field's checker; collect every failure (and every field rejected when it was
    cleaned) so a form can show them all inline."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = dict(args.rejected)
    for name, check in checks.items():
        if name in errors:
            continue
        try:
            values[name] = check(args.fields.get(name, ""))
        except UserError as exc:
            errors[name] = str(exc)
    if errors:
        raise FieldErrors(errors)
    return values


def visibility_field(hint: str) -> FormField:
    """Who may read what is written: a select of the visibilities, the group's by default."""
    return FormField(
        "visibility",
        "Who can read it",
        "select",
        required=False,
        options=VISIBILITIES,
        initial="group",
        hint=hint,
    )


def named_field(hint: str) -> FormField:
    """Whether a quote carries its author's name: anonymous unless they say yes."""
    return FormField(
        "named",
        "Quote me by name",
        "select",
        required=False,
        options=("no", "yes"),
        initial="no",
        hint=hint,
    )

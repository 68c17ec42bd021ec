"""Forms with inline fallback: a command either has all its fields, or it asks with a Form."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.commands.registry import Args
from bot.domain import Form, FormField
from bot.domain.text import clean
from bot.errors import FieldErrors, UserError

Checker = Callable[[str], Any]


def clean_values(fields: tuple[FormField, ...], values: dict[str, str]) -> dict[str, str]:
    """Every field value, typed inline or submitted in a form, made plain (bot.domain.text);
    only long-text fields keep line breaks and tabs. A value that had something in it and is
    empty once cleaned is refused on its field, rather than saved blank or asked again."""
    long_text = {f.name for f in fields if f.kind == "long_text"}
    cleaned: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name, value in values.items():
        # Questions of a round are not in the spec's fields: they are long text too.
        multiline = name in long_text or name not in {f.name for f in fields}
        cleaned[name] = clean(value, multiline=multiline)
        if value.strip() and not cleaned[name].strip():
            errors[name] = f"{name} is empty: it holds only invisible or control characters."
    if errors:
        raise FieldErrors(errors)
    return cleaned


def missing(fields: tuple[FormField, ...], args: Args) -> bool:
    return any(f.required and not args.fields.get(f.name, "").strip() for f in fields)


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
    """Run each field's checker; collect every failure so a form can show them all inline."""
    values: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, check in checks.items():
        try:
            values[name] = check(args.fields.get(name, ""))
        except UserError as exc:
            errors[name] = str(exc)
    if errors:
        raise FieldErrors(errors)
    return values

"""The digest as a conversation: `digest respond` (members answer a theme), `digest edit`
(facilitators curate the draft before `digest now`), and `digest history`."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.commands import forms
from bot.commands.registry import Args, CommandSpec, Result
from bot.commands.values import check_choice, check_text
from bot.domain import FormField, Reply, Role
from bot.domain.params import Param
from bot.domain.plural import plural
from bot.errors import UserError
from bot.services import groups, privacy
from bot.services.context import Invocation
from bot.services.digests import curation, responses
from bot.services.digests.build import build_digest
from bot.services.digests.isoweek import iso_week
from bot.services.digests.stored import POSTED, find_digest
from bot.services.digests.variants import GROUP
from bot.store.models import Digest

HISTORY = 20  # weeks `digest history` lists
MAX_LABEL = 80
MAX_NOTE = 1000

DIFFER_FIELDS = (
    FormField(
        "text",
        "What we see instead",
        "long_text",
        max_length=responses.MAX_TEXT,
        hint="In your own words: it may be quoted as written in next week's digest.",
    ),
    forms.visibility_field(
        "group: quoted in next week's digest; facilitators: facilitators only; private: only you"
    ),
    forms.named_field("no: quoted anonymously"),
)
DIFFER_CHECKS: dict[str, forms.Checker] = {
    "text": lambda v: check_text("text", v, max_length=responses.MAX_TEXT),
    "visibility": lambda v: check_choice("visibility", v or "group", privacy.VISIBILITIES),
    "named": lambda v: check_choice("named", v or "no", ("yes", "no")) == "yes",
}
EDIT_FIELDS = (
    FormField("action", "Change", "select", options=curation.ACTIONS, max_length=10),
    FormField("theme", "Theme number", required=False, max_length=3, hint="rename, drop, pin"),
    FormField("quote", "Quote number", required=False, max_length=3, hint="drop, pin"),
    FormField(
        "text",
        "New label or note",
        "long_text",
        required=False,
        max_length=MAX_NOTE,
        hint="rename: the theme's new label; note: the note (empty removes it)",
    ),
)
RESPOND_USAGE = "Usage: `digest respond <theme> agree|differ [text=… visibility=… named=yes|no]`."
EDIT_USAGE = (
    "Usage: `digest edit rename <theme> <new label>`, `digest edit drop <theme> <quote>`, "
    "`digest edit pin <theme> <quote>`, `digest edit note <text>`, or `digest edit` for a form."
)


async def digest_respond(inv: Invocation, args: Args) -> Result:
    if len(args.positional) != 2 or args.positional[1].lower() not in responses.STANCES:
        raise UserError(RESPOND_USAGE)
    forms.unknown_fields(DIFFER_FIELDS, args)
    key, stance = args.positional[0], args.positional[1].lower()
    if stance == responses.AGREE and args.fields:
        raise UserError("Agreeing takes no text. To say more, use `differ`.")
    async with inv.deps.db.begin() as session:
        ref = await responses.find_theme(session, inv.channel, key)
        if stance == responses.DIFFER and forms.missing(DIFFER_FIELDS, args):
            previous = await responses.mine(session, ref.digest.id, ref.position, inv.member_id)
            values = dict(args.fields)
            if previous is not None and previous.stance == responses.DIFFER:
                values = {
                    "text": previous.text,
                    "visibility": previous.visibility,
                    "named": "yes" if previous.named else "no",
                    **values,
                }
            return forms.ask(
                "We see it differently",
                f"digest respond {ref.key} {responses.DIFFER}",
                DIFFER_FIELDS,
                Args([], values),
                intro=f"Theme {ref.position} of the {ref.digest.week} digest: {ref.label}",
            )
        extra: dict[str, Any] = (
            forms.validate(args, DIFFER_CHECKS) if stance == responses.DIFFER else {}
        )
        changed = await responses.answer(
            session, ref, inv.member_id, stance, inv.deps.clock(), **extra
        )
    return Reply.text(_answered(ref, stance, changed, extra))


def _answered(ref: responses.ThemeRef, stance: str, changed: bool, extra: dict[str, Any]) -> str:
    theme = f"theme {ref.position} “{ref.label}”"
    if stance == responses.AGREE:
        said = f"{theme} matches what you see"
        after = "Changed your mind? Press “We see it differently”."
    else:
        visibility = str(extra.get("visibility", "group"))
        shown = (
            f"next week's digest quotes it {'by name' if extra.get('named') else 'anonymously'}"
            if visibility == responses.SHAREABLE
            else f"visible to {privacy.audience(visibility)}, never quoted in a digest"
        )
        said = f"you see {theme} differently ({shown})"
        after = "Answering again replaces it."
    return f"{'Noted' if changed else 'Already noted'}: {said}. {after}"


def _edit_args(args: Args) -> tuple[str, str, str, str]:
    """(action, theme, quote, text), typed inline or submitted in the form."""
    words = list(args.positional)
    action = (words.pop(0) if words else args.fields.get("action", "")).lower().strip()
    if action not in curation.ACTIONS:
        raise UserError(EDIT_USAGE)
    theme = quote = ""
    if action != "note":
        theme = words.pop(0) if words else args.fields.get("theme", "").strip()
    if action in ("drop", "pin"):
        quote = words.pop(0) if words else args.fields.get("quote", "").strip()
        if words:
            raise UserError(EDIT_USAGE)
    text = " ".join(words) if words else args.fields.get("text", "")
    return action, theme, quote, text.strip()


def _number(text: str, what: str, count: int) -> int:
    """A theme's or quote's number, counted as the preview shows them."""
    if count == 0:
        raise UserError(f"There is no {what} to choose here.")
    if not text:
        raise UserError(f"Which {what}? Give its number, 1 to {count}, counted as in the preview.")
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= count:
        raise UserError(f"'{text[:20]}' is not a {what}: give a number from 1 to {count}.")
    return int(text)


async def digest_edit(inv: Invocation, args: Args) -> Result:
    inv.require(Role.FACILITATOR, "curate the digest")
    forms.unknown_fields(EDIT_FIELDS, args)
    if not args.positional and not args.fields.get("action", "").strip():
        return forms.ask(
            "Curate this week's digest",
            "digest edit",
            EDIT_FIELDS,
            args,
            intro="Rename a theme, drop or pin a quote (numbers as in `digest preview`), or add "
            "a note from the facilitators.",
        )
    action, theme_text, quote_text, text = _edit_args(args)
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        week = iso_week(inv.deps.clock(), group.timezone)
        digest = await find_digest(session, group.id, week, GROUP)
        if digest is not None and digest.state == POSTED:
            raise UserError(f"This week's digest ({week}) was already posted; it stays as it was.")
        if digest is None or not digest.content.get("text"):
            digest = await build_digest(inv.deps, session, group, week, GROUP)
        # Another facilitator's change in the meantime is kept: the row is read again, locked.
        await session.refresh(digest, with_for_update=True)
        replayed = next(
            (e for e in digest.edits or () if inv.source_key and e.get("key") == inv.source_key),
            None,
        )
        edit = replayed or _edit(action, theme_text, quote_text, text, digest.themes or [])
        if replayed is None:  # a form submitted twice (a platform retry) is one change
            edit |= {"by": inv.member_id, "at": inv.deps.clock().isoformat()}
            edit |= {"key": inv.source_key} if inv.source_key else {}
            digest.edits = [*(digest.edits or []), edit]
            digest = await build_digest(inv.deps, session, group, week, GROUP)
        count = len(digest.edits or [])
    verb = "Already saved" if replayed else "Saved"
    return Reply.text(
        f"{verb} to this week's draft: {curation.describe(edit)}\nThe draft now has "
        f"{plural(count, 'change')}; `digest preview` shows it, `digest now` posts it."
    )


def _edit(
    action: str, theme_text: str, quote_text: str, text: str, themes: list[dict[str, Any]]
) -> curation.Edit:
    if action == "note":
        if len(text) > MAX_NOTE:
            raise UserError(f"A note is at most {MAX_NOTE} characters; this one has {len(text)}.")
        return {"action": "note", "text": text}
    if not theme_text:
        raise UserError(f"Which theme? {EDIT_USAGE}")
    position = _number(theme_text, "theme", len(themes))
    theme = themes[position - 1]
    edit: curation.Edit = {"action": action, "theme": position, "label": theme["original"]}
    if action == "rename":
        edit["text"] = check_text("label", text, max_length=MAX_LABEL)
        return edit
    quotes = list(theme.get("shown_quote_ids") or [])
    number = _number(quote_text, "quote", len(quotes))
    return edit | {"quote": quotes[number - 1], "number": number}


async def digest_history(inv: Invocation, args: Args) -> Result:
    if args.positional:
        raise UserError("Usage: `digest history`.")
    async with inv.deps.db.begin() as session:
        group = await groups.require_group(session, inv.channel)
        posted = list(
            (
                await session.execute(
                    select(Digest)
                    .where(
                        Digest.group_id == group.id,
                        Digest.variant == GROUP,
                        Digest.state == POSTED,
                    )
                    .order_by(Digest.week.desc())
                    .limit(HISTORY)
                )
            ).scalars()
        )
        answered = await responses.counts(session, [d.id for d in posted])
    if not posted:
        return Reply.text("No digest has been posted yet.")
    lines = ["Posted digests, latest first (`digest show <week>` shows one):"]
    for d in posted:
        labels = "; ".join(str(t.get("label", "")) for t in d.themes or ())
        facts = [plural(answered.get(d.id, 0), "answer")]
        if d.edits:
            facts.append(f"curated: {plural(len(d.edits), 'change')}")
        lines.append(f"• {d.week}: {labels or 'no themes'} ({'; '.join(facts)})")
    return Reply.text("\n".join(lines))


def edits_note(digest: Digest) -> str:
    """What facilitators changed, for the preview and `digest show`; a change whose theme is
    gone from the rebuilt draft says so."""
    if not digest.edits:
        return ""
    originals = {str(t.get("original")) for t in digest.themes or ()}
    shown = [
        curation.describe(e)
        + (
            ""
            if e.get("action") == "note" or e.get("label") in originals
            else " (no longer applies)"
        )
        for e in digest.edits
    ]
    return "Curated: " + "; ".join(shown) + "."


SPECS = (
    CommandSpec(
        ("digest", "respond"),
        "digest respond <theme> agree|differ [text=… visibility=… named=yes|no]",
        "Answer a theme of the posted digest: it matches what you see, or you see it differently.",
        digest_respond,
        fields=DIFFER_FIELDS,
        params=(
            Param("theme", "text", "The theme's number in the digest, e.g. 2", True, example="2"),
            Param(
                "answer",
                "choice",
                "agree: it matches; differ: you see it differently",
                True,
                options=responses.STANCES,
                example="agree",
            ),
        ),
        details="One answer per theme: answering again replaces it. What you see instead is "
        "quoted in next week's digest only when visible to the group.",
    ),
    CommandSpec(
        ("digest", "edit"),
        "digest edit [rename|drop|pin|note] [<theme>] [<quote>] [<text>]",
        "Curate this week's draft digest before it is posted.",
        digest_edit,
        fields=EDIT_FIELDS,
        params=(
            Param("action", "choice", "What to change", options=curation.ACTIONS, example="note"),
            Param("rest", "text", "Theme, quote and text", rest=True, example="Thanks all"),
        ),
        min_role=Role.FACILITATOR,
        details="Every change is kept with the digest and applied whenever the draft is built "
        "again; `digest now` posts the curated version.",
    ),
    CommandSpec(
        ("digest", "history"),
        "digest history",
        "The digests posted so far, with their themes and how many answered.",
        digest_history,
    ),
)

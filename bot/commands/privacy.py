"""`privacy`, `export`, `forget-me` and `forget-me confirm`."""

from __future__ import annotations

from bot.commands.registry import Args, CommandSpec, Result
from bot.domain import Button, Message, Reply
from bot.domain.plural import plural as _plural
from bot.services import exportfiles, privacy
from bot.services.context import Invocation


async def privacy_info(inv: Invocation, args: Args) -> Result:
    return Reply.text(privacy.PRIVACY_TEXT)


async def export(inv: Invocation, args: Args) -> Result:
    now = inv.deps.clock()
    async with inv.deps.db.begin() as session:
        data = await privacy.collect_export(session, inv.member_id)
    data["exported_at"] = now.isoformat()
    data_dir = inv.deps.settings.bot.data_dir
    await exportfiles.expire_exports(data_dir, now)
    path = exportfiles.export_path(data_dir, str(inv.actor.platform), inv.actor.user_id, now)
    await exportfiles.write_export(path, data)
    n = privacy.counts_of(data)
    text = (
        "Your data, as JSON: your profile, "
        f"{_plural(n.checkins, 'check-in')}, {_plural(n.responses, 'round answer')}, "
        f"{_plural(n.experiments, 'experiment')} you own and "
        f"{_plural(n.cycles, 'cycle')} you created. The bot deletes its copy of the file "
        "within an hour."
    )
    return Reply(Message(text, attachments=(str(path),)))


async def forget_me(inv: Invocation, args: Args) -> Result:
    async with inv.deps.db.begin() as session:
        n = privacy.counts_of(await privacy.collect_export(session, inv.member_id))
    text = (
        "This deletes everything the bot holds about you: "
        f"{_plural(n.checkins, 'check-in')}, {_plural(n.responses, 'round answer')}, "
        "messages queued for you, your export files, the experiments you own that nobody else "
        "checked in on, and your profile; your words and name come out of stored digests and "
        "round summaries. Experiments others checked in on stay for the group, without your "
        "name. Messages already posted in chat stay there. This cannot be undone; `export` "
        "first if you want a copy."
    )
    button = Button("Yes, delete all my data", "forget-me confirm", style="danger")
    return Reply.text(text, buttons=(button,))


async def forget_me_confirm(inv: Invocation, args: Args) -> Result:
    async with inv.deps.db.begin() as session:
        gone = await privacy.forget_member(
            session, inv.member_id, summariser=inv.deps.summariser.name
        )
    files = await exportfiles.delete_exports(
        inv.deps.settings.bot.data_dir, str(inv.actor.platform), inv.actor.user_id
    )
    kept = (
        f" {_plural(gone.experiments_kept, 'experiment')} others checked in on stay, "
        "without your name."
        if gone.experiments_kept
        else ""
    )
    text = (
        "Done. Deleted your profile, "
        f"{_plural(gone.checkins, 'check-in')}, {_plural(gone.responses, 'round answer')}, "
        f"{_plural(gone.deliveries, 'queued message')}, {_plural(files, 'export file')} and "
        f"{_plural(gone.experiments_deleted, 'experiment')}. Rewritten without your words "
        f"and name: {gone.rewritten} stored digests, round summaries and posts.{kept}"
    )
    return Reply.text(text)


SPECS = (
    CommandSpec(("privacy",), "privacy", "Who sees what, in plain words.", privacy_info),
    CommandSpec(("export",), "export", "All your data, as a JSON file.", export),
    CommandSpec(("forget-me",), "forget-me", "Delete all your data (asks first).", forget_me),
    CommandSpec(
        ("forget-me", "confirm"),
        "forget-me confirm",
        "Delete all your data now.",
        forget_me_confirm,
    ),
)

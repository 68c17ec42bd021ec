"""Every interaction, routed by what it is: slash commands, autocomplete, button clicks, selects
and modal submits. Each one is answered within Discord's 3 seconds: quick work answers directly;
slow work defers (an ephemeral "thinking…") and follows up. A component is understood from its
custom id alone (customids.py), so buttons work across restarts."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, cast

import discord
from discord.utils import MISSING
from discord.webhook.async_ import AsyncWebhookAdapter

from bot.config import DiscordSettings
from bot.domain import Actor, Button, ChannelRef, Form, Reply
from bot.domain.views import LookupKind, Result
from bot.ports import Port
from integrations.common.budget import within
from integrations.common.cache import BoundedCache
from integrations.common.errors import log_failure
from integrations.common.inflight import InFlight
from integrations.common.split import clip
from integrations.discord import autocomplete, customids
from integrations.discord.forms import TTL_SECONDS, FormStore, OpenForm
from integrations.discord.http import use_webhook_adapter
from integrations.discord.identity import actor_for, channel_for
from integrations.discord.render import (
    LABEL_LIMIT,
    Outgoing,
    button_view,
    close_files,
    describe_errors,
    files_for,
    outgoing_content,
    plain_messages,
    select_item,
    text_input,
)
from integrations.discord.tree import INTEGER, Tree, focused, invoked

log = logging.getLogger(__name__)

# Answer directly when the core is this quick; otherwise defer first (Discord allows 3 s).
ACK_SECONDS = 1.5
SEEN_CAPACITY = 10_000
ALREADY_ANSWERED = 40060  # Discord: "Interaction has already been acknowledged"
FORM_EXPIRED = (
    "This form is no longer open (forms stay open 30 minutes, and not across a restart of "
    "the bot). Please run the command again."
)
BUTTON_EXPIRED = "This button no longer works. Type the command instead (`/cycles help`)."
OUTDATED = "This command has changed. Discord updates its list within a minute; please try again."
NO_MEMBERS_INTENT = (
    "Note: the bot runs without the Server Members intent, so it only knows the members it has "
    "seen; some people in this channel may not have been asked. An admin can turn the intent on "
    "(Developer Portal → Bot → Server Members Intent) and set discord.members_intent = true."
)
FAN_OUT = "round start"  # the one command whose audience is the channel's member list
NO_MENTIONS = discord.AllowedMentions.none()

MemberLookup = Callable[[str, int], discord.Member | None]


def payload(interaction: discord.Interaction) -> Mapping[str, Any]:
    """The interaction's raw data, as a plain mapping."""
    data: Mapping[str, Any] = dict(interaction.data or {})
    return data


class Responder:
    """Answers one interaction: first response, the deferred placeholder, then follow-ups."""

    def __init__(self, interaction: discord.Interaction) -> None:
        self.interaction = interaction
        self._placeholder = False  # an ephemeral "thinking…" waits to be replaced

    @property
    def fresh(self) -> bool:
        return not self.interaction.response.is_done()

    @property
    def can_open_modal(self) -> bool:
        """A modal can only be the first answer, and never the answer to another modal."""
        return self.fresh and self.interaction.type is not discord.InteractionType.modal_submit

    async def defer(self) -> None:
        if self.fresh:
            await self.interaction.response.defer(ephemeral=True, thinking=True)
            self._placeholder = True

    async def modal(self, modal: discord.ui.Modal) -> None:
        await self.interaction.response.send_modal(modal)

    async def send(self, out: Outgoing, *, ephemeral: bool = True) -> None:
        files = files_for(out.attachments, out.alt_texts)
        kwargs: dict[str, Any] = {"allowed_mentions": NO_MENTIONS}
        if out.content:
            kwargs["content"] = outgoing_content(out.content)
        if out.embeds:
            kwargs["embeds"] = out.embeds
        if out.view is not None:
            kwargs["view"] = out.view
        if files:
            kwargs["files"] = files
        interaction = self.interaction
        try:
            if self.fresh:
                await interaction.response.send_message(ephemeral=ephemeral, **kwargs)
            elif self._placeholder:
                self._placeholder = False
                if ephemeral:
                    await interaction.edit_original_response(
                        content=outgoing_content(out.content) or None,
                        embeds=out.embeds,
                        view=out.view,
                        attachments=files or MISSING,
                        allowed_mentions=NO_MENTIONS,
                    )
                else:  # the placeholder is private; a public answer replaces it
                    await interaction.delete_original_response()
                    await interaction.followup.send(ephemeral=False, **kwargs)
            else:
                await interaction.followup.send(ephemeral=ephemeral, **kwargs)
        finally:
            close_files(files)

    async def text(self, text: str) -> None:
        await self.send(Outgoing(content=text), ephemeral=True)

    async def update(self, content: str, view: discord.ui.View | None) -> None:
        """Replace the message the component sits on."""
        content = outgoing_content(content)
        if self.fresh:
            await self.interaction.response.edit_message(
                content=content, view=view, allowed_mentions=NO_MENTIONS
            )
        else:
            await self.interaction.edit_original_response(
                content=content, view=view, allowed_mentions=NO_MENTIONS
            )


def _modal_values(components: Sequence[Mapping[str, Any]]) -> Iterator[tuple[str, str]]:
    """(custom id, value) of every input in a modal submit, rows and labels unwrapped."""
    for component in components:
        inner = component.get("components") or (
            [component["component"]] if "component" in component else []
        )
        if inner:
            yield from _modal_values(inner)
        elif "custom_id" in component:
            yield str(component["custom_id"]), str(component.get("value") or "")


class InteractionRouter:
    def __init__(
        self,
        *,
        settings: DiscordSettings,
        port: Port,
        tree: Tree,
        webhook: AsyncWebhookAdapter,
        member_lookup: MemberLookup,
    ) -> None:
        self.settings = settings
        self.port = port
        self.tree = tree
        self.webhook = webhook
        self.member_lookup = member_lookup
        self.forms = FormStore()
        self._seen: BoundedCache[int, bool] = BoundedCache(SEEN_CAPACITY)
        # When each interaction being handled arrived, until it is acknowledged.
        self._received: dict[int, float] = {}
        self.inflight = InFlight()

    # --- entry -------------------------------------------------------------------------------

    def acknowledged(self, interaction_id: int) -> None:
        """Discord took the first response: the acknowledgement latency goes to /metrics."""
        received = self._received.pop(interaction_id, None)
        if received is not None:
            self.port.metrics.observe_ack("discord", time.perf_counter() - received)

    async def __call__(self, interaction: discord.Interaction) -> None:
        use_webhook_adapter(self.webhook)
        if not self._first_time(interaction.id):
            log.info("interaction %s delivered again; already handled", interaction.id)
            return
        self._received[interaction.id] = time.perf_counter()
        try:
            await self._handle(interaction)
        finally:
            self._received.pop(interaction.id, None)

    async def _handle(self, interaction: discord.Interaction) -> None:
        async with self.inflight.hold():
            try:
                await self._route(interaction)
            except Exception as exc:
                if isinstance(exc, discord.HTTPException) and exc.code == ALREADY_ANSWERED:
                    # Answered before (by this process or an earlier one): nothing more to say.
                    log.info("interaction %s was already answered", interaction.id)
                    return
                ref = log_failure(log, "interaction", exc)
                try:
                    await Responder(interaction).text(
                        f"Something went wrong on our side. Reference: {ref}."
                    )
                except Exception:
                    log.warning("could not tell the person about failure %s", ref)

    def _first_time(self, interaction_id: int) -> bool:
        return self._seen.add(interaction_id, True)

    async def _route(self, interaction: discord.Interaction) -> None:
        kind = interaction.type
        if kind is discord.InteractionType.application_command:
            await self._command(interaction)
        elif kind is discord.InteractionType.autocomplete:
            await self._autocomplete(interaction)
        elif kind is discord.InteractionType.component:
            await self._component(interaction)
        elif kind is discord.InteractionType.modal_submit:
            await self._modal_submit(interaction)

    # --- slash commands and buttons ----------------------------------------------------------

    async def _command(self, interaction: discord.Interaction) -> None:
        found = invoked(self.tree, payload(interaction))
        responder = Responder(interaction)
        if found is None:
            await responder.text(OUTDATED)
            return
        actor = actor_for(interaction, self.settings)
        channel = channel_for(interaction)
        await self._run(responder, actor, channel, found.text, found.fields)

    async def _button(self, interaction: discord.Interaction, custom_id: str) -> None:
        responder = Responder(interaction)
        target = await customids.button_target(self.port.store, custom_id)
        if target is None:
            await responder.text(BUTTON_EXPIRED)
            return
        actor, channel = self._who(interaction, target.workspace)
        await self._run(responder, actor, channel, target.command, {})

    def _who(self, interaction: discord.Interaction, workspace: str) -> tuple[Actor, ChannelRef]:
        if interaction.guild_id is not None:
            return actor_for(interaction, self.settings), channel_for(interaction)
        member = self.member_lookup(workspace, interaction.user.id) if workspace else None
        actor = actor_for(interaction, self.settings, workspace=workspace, member=member)
        return actor, channel_for(interaction, workspace=workspace)

    async def _run(
        self,
        responder: Responder,
        actor: Actor,
        channel: ChannelRef,
        text: str,
        fields: dict[str, str],
    ) -> None:
        source = f"discord:{responder.interaction.id}"
        task = await within(
            self.port.handle(actor, channel, text, fields=fields or None, source_key=source),
            ACK_SECONDS,
        )
        if not task.done():
            await responder.defer()
        result = await task
        await self._deliver(responder, actor, channel, result)
        started = isinstance(result, Reply) and not result.ephemeral
        if started and not self.settings.members_intent and text.lower().startswith(FAN_OUT):
            await responder.text(NO_MEMBERS_INTENT)

    async def _deliver(
        self, responder: Responder, actor: Actor, channel: ChannelRef, result: Result
    ) -> None:
        if isinstance(result, Form):
            opened = self.forms.open(result, actor, channel)
            await self._add_labels(opened)
            await self._present(responder, opened, 0)
            return
        await self._reply(responder, actor.workspace, result)

    async def _reply(self, responder: Responder, workspace: str, reply: Reply) -> None:
        view = await self._buttons(workspace, reply.message.buttons)
        for out in plain_messages(reply.message, view):
            await responder.send(out, ephemeral=reply.ephemeral)

    async def _buttons(self, workspace: str, buttons: Sequence[Button]) -> discord.ui.View | None:
        store = self.port.store
        pairs = [(b, await customids.for_button(store, workspace, b.command)) for b in buttons]
        return button_view(pairs)

    # --- forms -------------------------------------------------------------------------------

    async def _add_labels(self, opened: OpenForm) -> None:
        """Experiment and cycle choices read better with their titles."""
        for f in opened.form.fields:
            if f.kind != "select" or f.name not in ("experiment", "cycle"):
                continue
            kind: LookupKind = "experiment" if f.name == "experiment" else "cycle"
            found = await autocomplete.ids(self.port, kind, opened.channel, "", as_int=False)
            names = {str(s.value): s.name for s in found}
            opened.labels[f.name] = {o: names.get(o, f"#{o}") for o in f.options}

    async def _present(
        self, responder: Responder, opened: OpenForm, index: int, *, replace: bool = False
    ) -> None:
        """Show step `index` of an open form, or submit it once every step is done."""
        if index >= len(opened.steps):
            await self._submit(responder, opened)
            return
        step = opened.steps[index]
        if step.kind == "modal":
            if responder.can_open_modal:
                await responder.modal(self._modal(opened, index))
                return
            # Offer a click that can open it.
            go = discord.ui.View(timeout=None)
            go.add_item(
                discord.ui.Button(
                    label="Open the form",
                    style=discord.ButtonStyle.primary,
                    custom_id=customids.form_id(opened.token, f"go:{index}"),
                )
            )
            go.stop()
            await responder.send(Outgoing(content=f"**{opened.form.title}**", view=go))
            return
        content, view = self._select_page(opened, index)
        if replace:
            await responder.update(content, view)
        else:
            await responder.send(Outgoing(content=content, view=view))

    def _select_page(self, opened: OpenForm, index: int) -> tuple[str, discord.ui.View]:
        form, step = opened.form, opened.steps[index]
        lines = [f"**{form.title}**"]
        if index == 0 and form.intro:
            lines.append(form.intro)
        lines += [f"• {f.label}: {f.hint}" for f in step.fields if f.hint and f.kind != "select"]
        view = discord.ui.View(timeout=None)
        for f in step.fields:
            view.add_item(
                select_item(
                    f,
                    customids.form_id(opened.token, f"s:{f.name}"),
                    opened.values.get(f.name),
                    opened.labels.get(f.name),
                )
            )
        last = index == len(opened.steps) - 1
        view.add_item(
            discord.ui.Button(
                label=clip(form.submit_label, 80) if last else "Continue",
                style=discord.ButtonStyle.primary,
                custom_id=customids.form_id(opened.token, f"go:{index + 1}"),
            )
        )
        view.add_item(
            discord.ui.Button(
                label="Cancel",
                style=discord.ButtonStyle.secondary,
                custom_id=customids.form_id(opened.token, "x"),
            )
        )
        view.stop()
        return clip("\n".join(lines), 2000), view

    def _modal(self, opened: OpenForm, index: int) -> discord.ui.Modal:
        step = opened.steps[index]
        texts = [s for s in opened.steps if s.kind == "modal"]
        title = opened.form.title
        if len(texts) > 1:
            title = f"{title} ({texts.index(step) + 1}/{len(texts)})"
        modal = discord.ui.Modal(
            title=clip(title, LABEL_LIMIT),
            timeout=TTL_SECONDS,
            custom_id=customids.form_id(opened.token, f"m:{index}"),
        )
        for f in step.fields:
            modal.add_item(
                text_input(
                    f, customids.form_id(opened.token, f"t:{f.name}"), opened.values.get(f.name)
                )
            )
        return modal

    async def _component(self, interaction: discord.Interaction) -> None:
        custom_id = str(payload(interaction).get("custom_id", ""))
        parsed = customids.parse_form_id(custom_id)
        if parsed is None:
            await self._button(interaction, custom_id)
            return
        token, action = parsed
        responder = Responder(interaction)
        opened = self.forms.get(token, str(interaction.user.id))
        if opened is None:
            await responder.text(FORM_EXPIRED)
            return
        if action.startswith("s:"):
            chosen = payload(interaction).get("values") or []
            opened.values[action[2:]] = str(chosen[0]) if chosen else ""
            await interaction.response.defer()  # the choice is kept; the message stays
        elif action == "x":
            self.forms.close(token)
            await responder.update("Cancelled; nothing was saved.", None)
        elif action.startswith("go:") and action[3:].isdigit():
            index = int(action[3:])
            on_page = index < len(opened.steps) and opened.steps[index].kind == "select"
            await self._present(responder, opened, index, replace=on_page)

    async def _modal_submit(self, interaction: discord.Interaction) -> None:
        data = payload(interaction)
        parsed = customids.parse_form_id(str(data.get("custom_id", "")))
        responder = Responder(interaction)
        opened = None
        if parsed is not None and parsed[1].startswith("m:") and parsed[1][2:].isdigit():
            opened = self.forms.get(parsed[0], str(interaction.user.id))
        if parsed is None or opened is None:
            await responder.text(FORM_EXPIRED)
            return
        for custom_id, value in _modal_values(data.get("components") or []):
            field = customids.parse_form_id(custom_id)
            if field is not None and field[0] == opened.token and field[1].startswith("t:"):
                opened.values[field[1][2:]] = value
        await self._present(responder, opened, int(parsed[1][2:]) + 1)

    async def _submit(self, responder: Responder, opened: OpenForm) -> None:
        await responder.defer()
        result = await self.port.handle(
            opened.actor,
            opened.channel,
            opened.form.command,
            fields=opened.submitted_fields(),
            source_key=f"discord:{responder.interaction.id}",
        )
        if isinstance(result, Reply) and result.errors:
            first = min(opened.step_of(name) for name in result.errors)
            view = discord.ui.View(timeout=None)
            view.add_item(
                discord.ui.Button(
                    label="Fix it",
                    style=discord.ButtonStyle.primary,
                    custom_id=customids.form_id(opened.token, f"go:{first}"),
                )
            )
            view.stop()
            text = describe_errors(result.errors, opened.form.fields)
            await responder.send(Outgoing(content=clip(text, 2000), view=view))
            return
        self.forms.close(opened.token)
        if isinstance(result, Form):
            # Still missing something: carry on from the first step that needs it.
            again = self.forms.open(result, opened.actor, opened.channel)
            await self._add_labels(again)
            await self._present(responder, again, again.first_missing())
            return
        await self._deliver(responder, opened.actor, opened.channel, result)

    # --- autocomplete ------------------------------------------------------------------------

    async def _autocomplete(self, interaction: discord.Interaction) -> None:
        names, option, typed = focused(payload(interaction))
        sub = self.tree.subcommands.get(names)
        param = next((p for p in sub.params if p.name == option), None) if sub else None
        found: list[autocomplete.Suggestion] = []
        if param is not None:
            channel = channel_for(interaction)
            as_int = param.type == INTEGER
            kind = param.autocomplete
            if kind in ("experiment", "cycle", "round"):
                looked_up = cast(LookupKind, kind)
                found = await autocomplete.ids(self.port, looked_up, channel, typed, as_int=as_int)
            elif kind == "command":
                found = autocomplete.commands(self.port.commands, typed)
            elif kind == "template":
                found = autocomplete.templates(await self.port.templates_here(channel), typed)
        choices = [discord.app_commands.Choice(name=s.name, value=s.value) for s in found]
        await interaction.response.autocomplete(choices)

"""One inbound activity -> one port call, and the answer back as a card.

- A message in a channel reaches the bot only when it is @mentioned; in the personal chat the
  bare text is the command. The mention is stripped, then the core's grammar applies.
- A card's `Action.Submit` comes back as a message with `value`: a button runs its command; a
  form runs its command with the inputs as fields. The card that was pressed is updated in place:
  a button that opens a form turns the card into that form, a saved form into its confirmation
  (with the Edit button the core offers), and a wrong value shows on its field.
- Private answers (refusals, errors, forms, anything `ephemeral`) never go to a channel: they go
  to the person's personal chat with the bot."""

from __future__ import annotations

import logging
import time

from microsoft_agents.activity import Activity
from microsoft_agents.hosting.core import TurnContext

from bot.domain import ChannelRef, Form, Platform, Reply
from bot.domain.views import Result
from bot.ports import Port
from integrations.common.errors import log_failure
from integrations.teams.cards import Card, Submitted, form_card, reply_card, submitted
from integrations.teams.delivery import Sender, card_activity
from integrations.teams.directory import Directory
from integrations.teams.identity import (
    actor_for,
    channel_for,
    command_text,
    is_personal,
    tenant_of,
)

log = logging.getLogger(__name__)

EMPTY = "Type a command, for example `help`."
FAILED = "Something went wrong on our side (ref {ref}). Nothing was lost; please try again."


class Turns:
    """The SDK's Agent: `on_turn` for every activity the CloudAdapter accepts."""

    def __init__(self, port: Port, sender: Sender, directory: Directory) -> None:
        self.port = port
        self.sender = sender
        self.directory = directory

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        started = time.perf_counter()
        await self._learn(activity)
        if activity.type != "message":
            return  # installs, members added, typing: nothing to do
        try:
            if activity.id and not await self.port.store.claim(
                Platform.TEAMS, f"activity:{activity.conversation.id}:{activity.id}"
            ):
                return  # Teams delivered it again: handled already
            found = submitted(activity.value)
            if found is not None:
                await self._submitted(context, found)
            elif activity.value is None:
                await self._command(context)
        except Exception as exc:  # one line and a reference; the person is told, privately
            ref = log_failure(log, "teams: an activity", exc)
            await self._private(context, reply_card(Reply.text(FAILED.format(ref=ref))))
        finally:
            self.port.metrics.observe_ack("teams", time.perf_counter() - started)

    async def _learn(self, activity: Activity) -> None:
        tenant = tenant_of(activity)
        bot = activity.recipient.id if activity.recipient else None
        if tenant and activity.service_url and bot:
            await self.directory.learn(tenant, str(activity.service_url), str(bot))
        if tenant and is_personal(activity) and activity.from_property and activity.conversation:
            # The personal chat Teams just used: no need to open one for this person later.
            await self.directory.remember_chat(
                tenant, str(activity.from_property.id), str(activity.conversation.id)
            )

    async def _command(self, context: TurnContext) -> None:
        activity = context.activity
        text = command_text(activity)
        if not text:
            await self._private(context, reply_card(Reply.text(EMPTY)))
            return
        result = await self.port.handle(actor_for(activity), channel_for(activity), text)
        await self._answer(context, result, None)

    async def _submitted(self, context: TurnContext, found: Submitted) -> None:
        activity = context.activity
        actor, channel = actor_for(activity), channel_for(activity)
        if found.channel:  # a form asked for in a channel, answered in the personal chat
            channel = ChannelRef(Platform.TEAMS, actor.workspace, found.channel)
        if found.fields is None:
            result = await self.port.handle(actor, channel, found.command)
            await self._answer(context, result, activity.reply_to_id)
            return
        result = await self.port.handle(
            actor, channel, found.command, fields=found.fields, source_key=_source(activity)
        )
        if isinstance(result, Reply) and result.errors:
            # A wrong value: the same form again, as it was filled in, with the message on its
            # field, so nothing typed is lost.
            form = await self.port.handle(actor, channel, found.command)
            if isinstance(form, Form):
                card = form_card(_keep(form, found.fields), result.errors, found.channel)
                await self._show(context, card, activity.reply_to_id, private=True)
                return
        await self._answer(context, result, activity.reply_to_id, found.fields, found.channel)

    async def _answer(
        self,
        context: TurnContext,
        result: Result,
        card_id: str | None,
        entered: dict[str, str] | None = None,
        origin: str = "",
    ) -> None:
        if isinstance(result, Form):
            # A form asked for in a channel is filled in the personal chat, but runs in the
            # channel: the card carries where.
            if not origin and not is_personal(context.activity):
                origin = channel_for(context.activity).channel
            card = form_card(_keep(result, entered), channel=origin)
        else:
            card = reply_card(result)
        public = isinstance(result, Reply) and not result.ephemeral
        await self._show(context, card, card_id, private=not public, origin=origin)

    async def _show(
        self,
        context: TurnContext,
        card: Card,
        card_id: str | None,
        *,
        private: bool,
        origin: str = "",
    ) -> None:
        """A card pressed in the personal chat (`card_id`) is updated in place; a public answer
        to a form asked for in a channel is posted there too. Otherwise a new message: in the
        channel when public, in the personal chat when private."""
        if card_id and is_personal(context.activity):
            await _update(context, card_id, card)
            if not private and origin:
                to = ChannelRef(Platform.TEAMS, tenant_of(context.activity), origin)
                await self.sender.post_card(to, card)
        elif not private:
            await context.send_activity(card_activity(card))
        else:
            await self._private(context, card)

    async def _private(self, context: TurnContext, card: Card) -> None:
        """To the person only: in the personal chat (this one, or opened for it)."""
        activity = context.activity
        if is_personal(activity):
            await context.send_activity(card_activity(card))
            return
        actor = actor_for(activity)
        await self.sender.send_card(actor.workspace, actor.user_id, card)


def _source(activity: Activity) -> str:
    """A submission's identity: Teams resends the same activity id, never reuses one."""
    return f"teams:{activity.id or ''}"[:128]


def _keep(form: Form, entered: dict[str, str] | None) -> Form:
    """The form with what the person typed kept, over what the core filled in."""
    if not entered:
        return form
    values = {**form.values, **{k: v for k, v in entered.items() if v}}
    return Form(form.title, form.command, form.fields, form.submit_label, form.intro, values)


async def _update(context: TurnContext, card_id: str, card: Card) -> None:
    activity = card_activity(card)
    activity.id = card_id
    await context.update_activity(activity)

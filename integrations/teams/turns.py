"""One inbound activity -> one port call, and the answer back as a card.

- A message in a channel reaches the bot only when it is @mentioned; in the personal chat the
  bare text is the command. The mention is stripped, then the core's grammar applies.
- A card's `Action.Submit` comes back as a message with `value`: a button runs its command; a
  form runs its command with the inputs as fields. The card that was pressed is updated in place:
  a button that opens a form turns the card into that form, a saved form into its confirmation
  (with the Edit button the core offers), and a wrong value shows on its field.
- Private answers (refusals, errors, forms, anything `ephemeral`) never go to a channel: they go
  to the person's personal chat with the bot.

Teams wants its request answered within seconds. The answer goes out within the turn when the
core is done within the budget; otherwise the turn ends (202) and the answer follows through the
connector, to the same places, when it is ready."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass

from microsoft_agents.activity import Activity, InvokeResponse
from microsoft_agents.hosting.core import TurnContext

from bot.domain import ChannelRef, Form, Platform, Reply
from bot.domain.views import Result
from bot.ports import Port
from integrations.common.budget import within
from integrations.common.errors import log_failure
from integrations.common.inflight import InFlight
from integrations.teams.cards import (
    CARD_TYPE,
    Card,
    Submitted,
    form_card,
    reply_card,
    submitted,
)
from integrations.teams.delivery import Sender, card_activity, message_id
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
UNKNOWN_ACTION = "This button is not one of Learning Cycles' own; nothing was done."
EXECUTE = "adaptiveCard/action"
FAILED = "Something went wrong on our side (ref {ref}). Nothing was lost; please try again."
# Answer within the turn when the core is this quick; else acknowledge and follow up.
BUDGET_SECONDS = 2.5


@dataclass(frozen=True)
class Answer:
    """Where a card goes: in place of the card pressed (`update`, in the personal chat), else a
    new message, in the conversation it came from when public, in the personal chat when
    private; a public answer to a form asked for in a channel is posted there too (`origin`)."""

    card: Card
    private: bool
    update: str | None = None
    origin: str = ""


class Turns:
    """The SDK's Agent: `on_turn` for every activity the CloudAdapter accepts."""

    def __init__(self, port: Port, sender: Sender, directory: Directory) -> None:
        self.port = port
        self.sender = sender
        self.directory = directory
        self.late = InFlight()  # answers following up after their turn ended
        self._tasks: set[asyncio.Task[None]] = set()

    async def on_turn(self, context: TurnContext) -> None:
        activity = context.activity
        started = time.perf_counter()
        await self._learn(activity)
        if activity.type == "invoke" and activity.name == EXECUTE:
            await self._execute(context)
            return
        if activity.type != "message":
            return  # installs, members added, typing: nothing to do
        try:
            if activity.id and not await self.port.store.claim(
                Platform.TEAMS, f"activity:{activity.conversation.id}:{activity.id}"
            ):
                return  # Teams delivered it again: handled already
            task = await within(self._decide(activity), BUDGET_SECONDS)
            if task.done():
                answer = task.result()
                if answer is not None:
                    await self._in_turn(context, answer)
            else:
                self._follow_up(activity, task)
        except Exception as exc:  # one line and a reference; the person is told, privately
            await self._in_turn(context, _failed(exc))
        finally:
            self.port.metrics.observe_ack("teams", time.perf_counter() - started)

    async def _execute(self, context: TurnContext) -> None:
        """An `Action.Execute` (an `adaptiveCard/action` invoke): the same as a submission, and
        the answer replaces the card in the invoke's response (Teams waits for it)."""
        activity = context.activity
        action = activity.value.get("action") if isinstance(activity.value, dict) else None
        data = action.get("data") if isinstance(action, dict) else None
        found = submitted(data)
        try:
            if found is None:
                answer = Answer(reply_card(Reply.text(UNKNOWN_ACTION)), private=True)
            else:
                answer = await self._submitted(activity, found)
            await self._to_origin(activity, answer)
        except Exception as exc:
            answer = _failed(exc)
        body = {"statusCode": 200, "type": CARD_TYPE, "value": answer.card}
        await context.send_activity(
            Activity(type="invokeResponse", value=InvokeResponse(status=200, body=body))
        )

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

    # --- what to answer ------------------------------------------------------------------------

    async def _decide(self, activity: Activity) -> Answer | None:
        found = submitted(activity.value)
        if found is not None:
            return await self._submitted(activity, found)
        if activity.value is not None:
            return None  # a card that is not ours
        text = command_text(activity)
        if not text:
            return Answer(reply_card(Reply.text(EMPTY)), private=True)
        round_id = await self._replied_prompt(activity)
        if round_id is not None:  # a reply to a round's prompt card: an answer, not a command
            result = await self.port.reply(actor_for(activity), round_id, text)
        else:
            result = await self.port.handle(actor_for(activity), channel_for(activity), text)
        return self._answer(activity, result, None)

    async def _replied_prompt(self, activity: Activity) -> int | None:
        """The round whose prompt card this personal-chat message replies to, if any."""
        if not activity.reply_to_id or not is_personal(activity) or not activity.conversation:
            return None
        posted = message_id(str(activity.conversation.id), str(activity.reply_to_id))
        sent = await self.port.sent(Platform.TEAMS, posted)
        return sent.round_id if sent is not None and sent.to_dm else None

    async def _submitted(self, activity: Activity, found: Submitted) -> Answer:
        actor, channel = actor_for(activity), channel_for(activity)
        if found.channel:  # a form asked for in a channel, answered in the personal chat
            channel = ChannelRef(Platform.TEAMS, actor.workspace, found.channel)
        card_id = activity.reply_to_id
        if found.fields is None:
            result = await self.port.handle(actor, channel, found.command)
            return self._answer(activity, result, card_id)
        result = await self.port.handle(
            actor, channel, found.command, fields=found.fields, source_key=_source(activity)
        )
        if isinstance(result, Reply) and result.errors:
            # A wrong value: the same form again, as it was filled in, with the message on its
            # field, so nothing typed is lost.
            form = await self.port.handle(actor, channel, found.command)
            if isinstance(form, Form):
                card = form_card(_keep(form, found.fields), result.errors, found.channel)
                return Answer(card, private=True, update=card_id)
        return self._answer(activity, result, card_id, found.fields, found.channel)

    def _answer(
        self,
        activity: Activity,
        result: Result,
        card_id: str | None,
        entered: dict[str, str] | None = None,
        origin: str = "",
    ) -> Answer:
        if isinstance(result, Form):
            # A form asked for in a channel is filled in the personal chat, but runs in the
            # channel: the card carries where.
            if not origin and not is_personal(activity):
                origin = channel_for(activity).channel
            return Answer(form_card(_keep(result, entered), channel=origin), True, card_id)
        public = not result.ephemeral
        return Answer(reply_card(result), not public, card_id, origin)

    # --- sending it ----------------------------------------------------------------------------

    async def _in_turn(self, context: TurnContext, answer: Answer) -> None:
        activity = context.activity
        if answer.update and is_personal(activity):
            replaced = card_activity(answer.card)
            replaced.id = answer.update
            await context.update_activity(replaced)
            await self._to_origin(activity, answer)
        elif not answer.private or is_personal(activity):
            await context.send_activity(card_activity(answer.card))
        else:
            actor = actor_for(activity)
            await self.sender.send_card(actor.workspace, actor.user_id, answer.card)

    async def _late(self, activity: Activity, answer: Answer) -> None:
        """The same places as `_in_turn`, through the connector after the turn ended."""
        actor = actor_for(activity)
        conversation = str(activity.conversation.id)
        if answer.update and is_personal(activity):
            await self.sender.update_card(actor.workspace, conversation, answer.update, answer.card)
            await self._to_origin(activity, answer)
        elif not answer.private:
            await self.sender.reply_card(actor.workspace, conversation, answer.card)
        else:
            await self.sender.send_card(actor.workspace, actor.user_id, answer.card)

    async def _to_origin(self, activity: Activity, answer: Answer) -> None:
        if not answer.private and answer.origin:
            to = ChannelRef(Platform.TEAMS, tenant_of(activity), answer.origin)
            await self.sender.post_card(to, answer.card)

    def _follow_up(self, activity: Activity, work: asyncio.Task[Answer | None]) -> None:
        async def follow() -> None:
            async with self.late.hold():
                try:
                    answer = await work
                except Exception as exc:
                    answer = _failed(exc)
                try:
                    if answer is not None:
                        await self._late(activity, answer)
                except Exception as exc:  # the person cannot be told: one line and a reference
                    log_failure(log, "teams: a late answer", exc)

        task = asyncio.create_task(follow())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


def _failed(exc: BaseException) -> Answer:
    ref = log_failure(log, "teams: an activity", exc)
    return Answer(reply_card(Reply.text(FAILED.format(ref=ref))), private=True)


def _source(activity: Activity) -> str:
    """A submission's identity: Teams resends the same activity id, never reuses one."""
    return f"teams:{activity.id or ''}"[:128]


def _keep(form: Form, entered: dict[str, str] | None) -> Form:
    """The form with what the person typed kept, over what the core filled in."""
    if not entered:
        return form
    values = {**form.values, **{k: v for k, v in entered.items() if v}}
    return Form(form.title, form.command, form.fields, form.submit_label, form.intro, values)

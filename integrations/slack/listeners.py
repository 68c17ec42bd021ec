"""Slack payloads -> core calls: the slash command, buttons, modal submissions, DM messages and
the Home tab. Every listener acknowledges first and does the slow work after; a modal submission
is the one exception, because Slack takes its validation errors only in the acknowledgement.

bolt injects listener arguments by parameter name; the small closures in `register` take those
names and hand plain values to `Interactions`, which is where the behaviour lives."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError

from bot.domain import Actor, Button, ChannelRef, Form, Message, Platform, Reply
from bot.domain.views import Result
from bot.errors import UserError
from integrations.common.acks_first import AcksFirst
from integrations.common.budget import within
from integrations.common.errors import log_failure
from integrations.common.inflight import InFlight
from integrations.slack import render
from integrations.slack.home import home_view
from integrations.slack.web import error_code

if TYPE_CHECKING:
    from integrations.slack.adapter import SlackAdapter

log = logging.getLogger(__name__)

# A submitted modal must be answered within 3 seconds; past this budget it closes and the
# answer arrives as a message instead.
SUBMIT_BUDGET_SECONDS = 2.3
STOP_GRACE_SECONDS = 30.0
# A slash command's answer ready within this long, when the bot is not busy, goes back in the
# acknowledgement itself. Under a burst every acknowledgement goes at once, and the work waits
# for a gap in the requests (integrations/common/acks_first.py).
ANSWER_IN_ACK_SECONDS = 0.2
# Not busy: at most this many interactions under way, this one included. At a steady few hundred
# commands a second a dozen may overlap, and each answer in an acknowledgement is one post to a
# response URL less (`python -m bench --only steady`).
ANSWER_IN_ACK_WHEN_AT_MOST = 16
FILES_NOTE = "The file that goes with my answer:"
SLACK_REFUSED = "Slack did not take my answer just now. Please try again."

Respond = Callable[..., Awaitable[Any]]
Ack = Callable[..., Awaitable[Any]]


def team_of(body: dict[str, Any]) -> str:
    team = body.get("team") or {}
    user = body.get("user") or {}
    found = (
        body.get("team_id")
        or (team.get("id") if isinstance(team, dict) else None)
        or (user.get("team_id") if isinstance(user, dict) else None)
        or ""
    )
    return str(found)


def channel_ref(team: str, channel_id: str | None, user_id: str) -> ChannelRef:
    """A channel, or the person's DM with the app (a D… conversation, or none known)."""
    if not channel_id or channel_id.startswith("D"):
        return ChannelRef(Platform.SLACK, team, channel_id or user_id, dm_user=user_id)
    return ChannelRef(Platform.SLACK, team, channel_id)


def form_message(form: Form) -> Message:
    """A form that cannot open right now (no fresh trigger): a button that opens it."""
    button = Button(f"Open: {form.title}"[:75], render.reopen_command(form), "primary")
    return Message(f"*{form.title}*: press the button to fill it in.", buttons=(button,))


class Interactions:
    def __init__(self, adapter: SlackAdapter) -> None:
        self.adapter = adapter
        self.port = adapter.port
        self.inflight = InFlight()
        self.acks_first = AcksFirst()

    # --- helpers --------------------------------------------------------------------------

    async def actor(self, team: str, user_id: str, name: str = "") -> Actor:
        return await self.adapter.directory.actor(team, user_id, name)

    async def run(
        self,
        actor: Actor,
        channel: ChannelRef,
        text: str,
        *,
        source_key: str | None,
        fields: dict[str, str] | None = None,
        once: bool = False,
    ) -> Result:
        return await self.port.handle(
            actor, channel, text, fields=fields, source_key=source_key, once=once
        )

    async def open_form(
        self, form: Form, channel: ChannelRef, trigger_id: str, origin: str | None = None
    ) -> bool:
        """views.open; False when the trigger expired (over 3 s) or Slack refused."""
        context = render.FormContext(channel, form.command, origin)
        try:
            await self.adapter.reads().views_open(
                trigger_id=trigger_id, view=render.modal(form, context)
            )
        except SlackApiError as exc:
            log.info("views.open failed: %s", error_code(exc))
            return False
        return True

    async def tell(
        self,
        reply: Reply,
        respond: Respond | None,
        channel: ChannelRef,
        person: ChannelRef | None = None,
    ) -> None:
        """Answer through the response URL when there is one, else by DM or in the channel.
        `person` is the DM of whoever asked, for when Slack refuses the response URL."""
        if respond is not None:
            url = getattr(respond, "response_url", None)
            for payload in render.reply_payloads(reply):
                if url:  # on the adapter's own HTTP session, not a new one per answer
                    body = {**payload, "replace_original": False}
                    if not await self.adapter.respond(str(url), body):
                        log.warning("slack refused a response URL; answering by DM instead")
                        await self.adapter.sender.send(person or self.dm(channel), reply.message)
                        return
                else:
                    await respond(replace_original=False, **payload)
            files = reply.message.attachments
            if files and (person is not None or channel.is_dm):
                # A response URL carries no file (an export, a chart): it follows by DM.
                note = Message(FILES_NOTE, attachments=files, alt_texts=reply.message.alt_texts)
                await self.adapter.sender.send(person or self.dm(channel), note)
            return
        to = channel if not reply.ephemeral and not channel.is_dm else self.dm(channel)
        await self.adapter.sender.send(to, reply.message)

    def dm(self, channel: ChannelRef, user_id: str | None = None) -> ChannelRef:
        user = user_id or channel.dm_user or ""
        return ChannelRef(Platform.SLACK, channel.workspace, user, dm_user=user)

    async def answer(
        self,
        result: Result,
        channel: ChannelRef,
        *,
        trigger_id: str | None,
        respond: Respond | None,
        origin: str | None = None,
        person: ChannelRef | None = None,
    ) -> None:
        if isinstance(result, Form):
            if trigger_id and await self.open_form(result, channel, trigger_id, origin):
                return
            result = Reply(form_message(result))
        await self.tell(result, respond, channel, person)

    # --- the slash command ----------------------------------------------------------------

    async def command(self, body: dict[str, Any], ack: Ack, respond: Respond) -> None:
        async with self.inflight.hold():
            team = team_of(body)
            user_id = str(body.get("user_id", ""))
            channel = channel_ref(team, body.get("channel_id"), user_id)
            if len(self.inflight) > ANSWER_IN_ACK_WHEN_AT_MOST:
                # Busy: acknowledged now, worked on once the burst lets up (acks_first.py).
                await ack()
                async with self.acks_first.turn():
                    later = self.command_result(body, team, user_id, channel)
                    await self.follow_up(later, body, channel, respond)
                return
            work = asyncio.ensure_future(self.command_result(body, team, user_id, channel))
            await asyncio.wait({work}, timeout=ANSWER_IN_ACK_SECONDS)  # the answer may be quick
            if await self.answered_in_ack(work, ack):
                return
            await ack()
            await self.follow_up(work, body, channel, respond)

    async def follow_up(
        self,
        work: Awaitable[Result | None],
        body: dict[str, Any],
        channel: ChannelRef,
        respond: Respond,
    ) -> None:
        """A command's answer after its acknowledgement: through the response URL."""
        person = self.dm(channel, str(body.get("user_id", "")))
        try:
            result = await work
            if result is not None:
                trigger_id = str(body.get("trigger_id", ""))
                await self.answer(
                    result, channel, trigger_id=trigger_id, respond=respond, person=person
                )
        except Exception as exc:
            await self.failed(exc, respond, channel, person)

    async def command_result(
        self, body: dict[str, Any], team: str, user_id: str, channel: ChannelRef
    ) -> Result | None:
        """The command's answer; None for a replay (a trigger id seen before). The core claims
        the trigger id, or finds a check-in by it, as the same transaction's work."""
        trigger_id = str(body.get("trigger_id", ""))
        actor = await self.actor(team, user_id, str(body.get("user_name", "")))
        text = str(body.get("text", ""))
        # Slack sends a trigger id with every slash command; a repeated delivery has the same.
        source_key = f"slack:command:{trigger_id}" if trigger_id else None
        result = await self.run(actor, channel, text, source_key=source_key, once=bool(trigger_id))
        if isinstance(result, Reply) and result.repeat:
            log.info("slack: a replayed slash command was ignored")
            return None
        return result

    @staticmethod
    async def answered_in_ack(work: asyncio.Future[Result | None], ack: Ack) -> bool:
        """A reply ready in time goes back in the acknowledgement's body: Slack shows it as it
        shows a response-URL answer, one round trip sooner. A form (it opens a modal), a long
        reply, a replay or a failure take the usual way."""
        if not work.done() or work.cancelled() or work.exception() is not None:
            return False
        result = work.result()
        if not isinstance(result, Reply) or result.message.attachments:
            return False
        payloads = render.reply_payloads(result)
        if len(payloads) != 1:
            return False
        await ack(**payloads[0])
        return True

    async def failed(
        self,
        exc: Exception,
        respond: Respond | None,
        channel: ChannelRef,
        person: ChannelRef | None = None,
    ) -> None:
        """Trouble while answering: the person still hears something, never a trace. A
        refusal of the core's (the database could not record the command) says so in its own
        words: blaming Slack would hide that nothing was saved."""
        said = str(exc) if isinstance(exc, UserError) else SLACK_REFUSED
        if not isinstance(exc, UserError):
            log_failure(log, "slack interaction", exc)
        with suppress(Exception):
            await self.tell(Reply.text(said), respond, channel, person)

    # --- buttons --------------------------------------------------------------------------

    async def action(self, body: dict[str, Any], ack: Ack, respond: Respond | None) -> None:
        async with self.inflight.hold():
            await ack()
            actions = body.get("actions") or [{}]
            command = str(actions[0].get("value") or "")
            team = team_of(body)
            user_id = str((body.get("user") or {}).get("id", ""))
            container = body.get("container") or {}
            channel_id = (body.get("channel") or {}).get("id") or container.get("channel_id")
            channel = channel_ref(team, channel_id, user_id)
            origin = None
            if container.get("type") == "message" and channel_id and container.get("message_ts"):
                origin = f"{channel_id}:{container['message_ts']}"
            trigger_id = str(body.get("trigger_id", ""))
            respond_to = respond if body.get("response_url") else None
            if not command:
                return
            try:
                if trigger_id and not await self.claim_once(f"action:{trigger_id}"):
                    log.info("slack: a replayed button click was ignored")
                    return
                actor = await self.actor(team, user_id)
                result = await self.run(
                    actor, channel, command, source_key=f"slack:action:{trigger_id}"
                )
                await self.answer(
                    result,
                    channel,
                    trigger_id=trigger_id,
                    respond=respond_to,
                    origin=origin,
                    person=self.dm(channel, user_id),
                )
            except Exception as exc:
                await self.failed(exc, respond_to, channel, self.dm(channel, user_id))

    # --- modal submissions ----------------------------------------------------------------

    async def submission(self, body: dict[str, Any], ack: Ack) -> None:
        async with self.inflight.hold():
            view = body.get("view") or {}
            try:
                context = render.FormContext.load(str(view.get("private_metadata") or ""))
            except (ValueError, KeyError):
                await ack()
                return
            team = team_of(body)
            user_id = str((body.get("user") or {}).get("id", ""))
            values = render.form_values(view)
            key = f"slack:view:{view.get('id', '')}:{view.get('hash', '')}"

            async def work() -> Result:
                actor = await self.actor(team, user_id)
                return await self.run(
                    actor, context.channel, context.command, fields=values, source_key=key
                )

            task = await within(work(), SUBMIT_BUDGET_SECONDS)
            if not task.done():  # too slow for the acknowledgement: close the modal, answer later
                await ack()
                await self.late(task, context, user_id)
                return
            try:
                result = task.result()
            except Exception as exc:
                await ack()
                await self.failed(exc, None, self.dm(context.channel, user_id))
                return
            await self.acknowledge(result, view, context, ack, user_id)

    async def acknowledge(
        self,
        result: Result,
        view: dict[str, Any],
        context: render.FormContext,
        ack: Ack,
        user_id: str,
    ) -> None:
        values = render.form_values(view)
        missing = render.missing_fields(result, values) if isinstance(result, Form) else {}
        if missing and isinstance(result, Form) and result.command == context.command:
            # The same form back means required fields were blank (Slack lets spaces through).
            await ack(response_action="errors", errors=missing)
            return
        if isinstance(result, Form):
            next_context = render.FormContext(context.channel, result.command, context.origin)
            await ack(response_action="update", view=render.modal(result, next_context))
            return
        if result.errors:
            inputs = [b for b in view.get("blocks") or [] if b.get("type") == "input"]
            names = [str(b["block_id"]) for b in inputs if b.get("block_id")]
            errors = render.field_errors(names, result.errors)
            await ack(response_action="errors", errors=errors)
            return
        title = str((view.get("title") or {}).get("text") or "Learning Cycles")
        await ack(response_action="update", view=render.result_view(title, result))
        try:
            if not result.ephemeral:
                await self.adapter.sender.send(context.channel, result.message)
            await self.refresh_origin(context.origin, result)
        except Exception as exc:
            log_failure(log, "answering after a submission", exc)

    async def late(
        self, task: asyncio.Future[Result], context: render.FormContext, user_id: str
    ) -> None:
        to_dm = self.dm(context.channel, user_id)
        try:
            result = await task
            if isinstance(result, Form):
                await self.adapter.sender.send(to_dm, form_message(result))
            elif not result.ephemeral:
                await self.adapter.sender.send(context.channel, result.message)
            else:
                await self.adapter.sender.send(to_dm, result.message)
            await self.refresh_origin(context.origin, result)
        except Exception as exc:
            log_failure(log, "a late answer to a submission", exc)

    async def refresh_origin(self, origin: str | None, result: Result) -> None:
        """After a successful answer, the DM the form came from shows the reply's buttons (the
        prompt's Answer becomes Edit answers). Only DMs: a channel post is everyone's."""
        if not origin or not isinstance(result, Reply) or result.errors:
            return
        if not result.message.buttons:
            return
        sent = await self.port.sent(Platform.SLACK, origin)
        if sent is None or not sent.to_dm:
            return
        original = sent.message
        updated = Message(original.text, buttons=result.message.buttons)
        head, _ = render.message_posts(updated)
        channel, _, ts = origin.partition(":")
        await self.adapter.reads().chat_update(
            channel=channel, ts=ts, text=head[0].text, blocks=head[0].blocks
        )

    # --- events ---------------------------------------------------------------------------

    async def claim(self, body: dict[str, Any]) -> bool:
        """True the first time this event id is seen; an Events API retry finds it taken."""
        event_id = str(body.get("event_id") or "")
        if not event_id:
            return True
        return await self.claim_once(event_id)

    async def claim_once(self, key: str) -> bool:
        """True the first time `key` is seen. Slash commands and clicks are keyed by their
        trigger id (one per invocation): a signed request re-sent within Slack's five-minute
        window carries the same one, and Slack does not mark it as a retry."""
        return await self.port.store.claim(Platform.SLACK, key[:128])

    async def message(self, body: dict[str, Any]) -> None:
        """A message in the app's DM: in a prompt's thread it is an answer; else a command."""
        event = body.get("event") or {}
        if event.get("channel_type") != "im" or event.get("subtype") or event.get("bot_id"):
            return
        async with self.inflight.hold():
            if not await self.claim(body):
                return
            team = team_of(body) or str(event.get("team") or "")
            user_id = str(event.get("user") or "")
            channel_id = str(event.get("channel") or "")
            text = str(event.get("text") or "")
            if not user_id or not channel_id:
                return
            self.adapter.sender.remember_dm(user_id, channel_id)
            dm = channel_ref(team, channel_id, user_id)
            thread_ts = event.get("thread_ts")
            in_thread = bool(thread_ts) and thread_ts != event.get("ts")
            try:
                actor = await self.actor(team, user_id)
                round_id = await self.round_of(f"{channel_id}:{thread_ts}") if in_thread else None
                result: Result
                if round_id is not None:
                    result = await self.port.reply(actor, round_id, text)
                    await self.refresh_origin(f"{channel_id}:{thread_ts}", result)
                else:
                    key = f"slack:message:{channel_id}:{event.get('ts', '')}"
                    result = await self.run(actor, dm, text, source_key=key)
                message = form_message(result) if isinstance(result, Form) else result.message
                await self.adapter.sender.send(
                    dm, message, thread_ts=str(thread_ts) if in_thread else None
                )
            except Exception as exc:
                log.error("DM message handling failed: %s", type(exc).__name__)

    async def round_of(self, message_id: str) -> int | None:
        """The round whose prompt DM is `message_id` ("channel:ts"), if any."""
        sent = await self.port.sent(Platform.SLACK, message_id)
        return sent.round_id if sent is not None else None

    async def home(self, body: dict[str, Any]) -> None:
        event = body.get("event") or {}
        if event.get("tab", "home") != "home":
            return
        async with self.inflight.hold():
            if not await self.claim(body):
                return
            team = team_of(body)
            user_id = str(event.get("user") or "")
            try:
                view = home_view(await self.port.home(Platform.SLACK, team, user_id))
                await self.adapter.reads().views_publish(user_id=user_id, view=view)
            except Exception as exc:
                log.error("home tab failed: %s", type(exc).__name__)


def register(bolt: AsyncApp, interactions: Interactions) -> None:
    """Wire bolt's listeners to `interactions` (parameter names are bolt's injection keys)."""

    @bolt.command("/cycles")
    async def on_command(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        await interactions.command(body, ack, respond)

    @bolt.action({"type": "block_actions", "action_id": render.ACTION_PATTERN})
    async def on_action(ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        await interactions.action(body, ack, respond)

    @bolt.view_submission(render.FORM_CALLBACK)
    async def on_submission(ack: Ack, body: dict[str, Any]) -> None:
        await interactions.submission(body, ack)

    @bolt.view_closed(render.FORM_CALLBACK)
    async def on_closed(ack: Ack) -> None:
        await ack()

    @bolt.event("message")
    async def on_message(body: dict[str, Any]) -> None:
        await interactions.message(body)

    @bolt.event("app_home_opened")
    async def on_home(body: dict[str, Any]) -> None:
        await interactions.home(body)

"""Posting a Message on Teams: to a person, in their personal chat with the bot (opened once and
remembered); to a channel, as a new post whose sections (and chart) are replies in its thread
(conversation `{channel};messageid={root}`). Paced under Teams' per-tenant limit.

A message with sections is several calls. If one after the first fails, what was posted is
remembered under the outbox key, so the outbox's retry carries on where it stopped instead of
posting the root again."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiolimiter import AsyncLimiter
from microsoft_agents.activity import Activity, ChannelAccount, ConversationParameters

from bot.config import TeamsSettings
from bot.domain import ChannelRef, MemberInfo, Message
from bot.errors import DeliveryError, DeliveryFailed, DeliveryRetry
from integrations.common.cache import BoundedCache
from integrations.teams.cards import Card, attachment, image_card, message_card, section_card
from integrations.teams.connector import Clients, classify
from integrations.teams.directory import Directory
from integrations.teams.identity import THREAD_SUFFIX

log = logging.getLogger(__name__)

FAILURES_REMEMBERED = 50_000
# Group chats' conversation ids end so; a team channel's end in @thread.tacv2 or @thread.skype.
GROUP_CHAT_SUFFIX = "@thread.v2"
ROSTER_ATTEMPTS = 3
ROSTER_WAIT_SECONDS = 5.0
# Bots have ids starting "28:"; the roster lists people, but a bot added to a team may appear.
BOT_PREFIX = "28:"


@dataclass
class Progress:
    conversation: str  # where the root went
    thread: str = ""  # where the rest goes
    root: str = ""
    done: int = 0


def card_activity(card: Card) -> Activity:
    return Activity(type="message", attachments=[attachment(card)])


def message_id(conversation: str, activity_id: str) -> str:
    """What the outbox stores: an activity id is only unique within its conversation."""
    return f"{conversation}|{activity_id}"


class Sender:
    def __init__(self, settings: TeamsSettings, clients: Clients, directory: Directory) -> None:
        self._settings = settings
        self._clients = clients
        self._directory = directory
        burst = settings.send_burst
        self._pace = AsyncLimiter(burst, burst / settings.send_rate_per_second)
        self._progress: dict[str, Progress] = {}
        # Failures in a row by outbox key, for exponential backoff (forgotten on success).
        self._failures: BoundedCache[str, int] = BoundedCache(FAILURES_REMEMBERED)

    async def _where(self, tenant: str) -> tuple[str, str]:
        service_url = await self._directory.service_url(tenant)
        bot_id = await self._directory.bot_id(tenant)
        if not service_url or not bot_id:
            # Teams must have written to the bot from this tenant first (install, a command).
            raise DeliveryFailed("Teams has not contacted the bot from this tenant yet")
        return service_url, bot_id

    async def personal_chat(self, tenant: str, user: str) -> str:
        """The personal chat with `user`: remembered, or opened now (POST /v3/conversations)."""
        known = await self._directory.chat(tenant, user)
        if known:
            return known
        service_url, bot_id = await self._where(tenant)
        client = await self._clients.get(service_url)
        params = ConversationParameters(
            is_group=False,
            agent=ChannelAccount(id=bot_id),
            members=[ChannelAccount(id=user)],
            tenant_id=tenant,
            channel_data={"tenant": {"id": tenant}},
        )
        async with self._pace:
            made = await client.conversations.create_conversation(params)
        conversation = str(made.id or "")
        if not conversation:
            raise DeliveryFailed("Teams opened no chat for this member")
        await self._directory.remember_chat(tenant, user, conversation)
        return conversation

    async def send_card(self, tenant: str, user: str, card: Card) -> None:
        """One card to a person's personal chat, now (an answer only they may see)."""
        service_url, _ = await self._where(tenant)
        chat = await self.personal_chat(tenant, user)
        client = await self._clients.get(service_url)
        async with self._pace:
            await client.conversations.send_to_conversation(chat, card_activity(card))

    async def update_card(self, tenant: str, conversation: str, card_id: str, card: Card) -> None:
        """Replace a card the bot posted (PUT …/activities/{id})."""
        service_url, _ = await self._where(tenant)
        client = await self._clients.get(service_url)
        replaced = card_activity(card)
        replaced.id = card_id
        async with self._pace:
            await client.conversations.update_activity(conversation, card_id, replaced)

    async def reply_card(self, tenant: str, conversation: str, card: Card) -> None:
        """A card in an existing conversation: a channel thread, or a personal chat."""
        service_url, _ = await self._where(tenant)
        client = await self._clients.get(service_url)
        async with self._pace:
            await client.conversations.send_to_conversation(conversation, card_activity(card))

    async def post_card(self, to: ChannelRef, card: Card) -> None:
        """One card as a new post in a channel, now (a public answer given privately)."""
        service_url, bot_id = await self._where(to.workspace)
        client = await self._clients.get(service_url)
        async with self._pace:
            await self._new_post(client, to, bot_id, card_activity(card), Progress(to.channel))

    async def send(self, to: ChannelRef, message: Message, *, key: str | None = None) -> str:
        """Post `message`; returns "conversation|activity id" of its root. Raises DeliveryRetry
        or DeliveryFailed."""
        failures = (self._failures.pop(key) or 0) + 1 if key else 1
        try:
            return await self._send(to, message, key, failures)
        except DeliveryError as error:
            if key and not isinstance(error, DeliveryFailed):
                self._failures.put(key, failures)
            raise
        except Exception as exc:
            if key:
                self._failures.put(key, failures)
            raise classify(exc, failures) from None

    def _cards(self, message: Message) -> list[Card]:
        cards = [message_card(message)]
        cards.extend(section_card(s) for s in message.sections)
        for path in message.attachments:
            image = image_card(Path(path))
            if image is None:  # a chart that is gone is not worth failing the digest over
                log.warning("teams: attachment %s is missing or too large", Path(path).name)
            else:
                cards.append(image)
        return cards

    async def _send(
        self, to: ChannelRef, message: Message, key: str | None, failures: int = 1
    ) -> str:
        cards = self._cards(message)
        progress = self._progress.pop(key, None) if key else None
        service_url, bot_id = await self._where(to.workspace)
        if progress is None:
            if to.dm_user:
                chat = await self.personal_chat(to.workspace, to.dm_user)
                progress = Progress(chat, chat)
            elif to.channel.endswith(GROUP_CHAT_SUFFIX):
                # A group chat has no threads: the message and its sections follow each other.
                progress = Progress(to.channel, to.channel)
            else:
                progress = Progress(to.channel)
        client = await self._clients.get(service_url)
        while progress.done < len(cards):
            activity = card_activity(cards[progress.done])
            try:
                async with self._pace:
                    if progress.done == 0 and not progress.thread:
                        await self._new_post(client, to, bot_id, activity, progress)
                    else:
                        sent = await client.conversations.send_to_conversation(
                            progress.thread, activity
                        )
                        progress.root = progress.root or str(sent.id or "")
            except Exception as exc:
                error = classify(exc, failures)
                if to.dm_user and progress.done == 0 and getattr(exc, "status", None) == 404:
                    # A personal chat remembered from before that Teams no longer has.
                    await self._directory.forget_chat(to.workspace, to.dm_user)
                    error = DeliveryRetry("the personal chat is gone; it is opened again", 0.0)
                if key and progress.done > 0 and not isinstance(error, DeliveryFailed):
                    self._progress[key] = progress
                raise error from None
            progress.done += 1
        return message_id(progress.conversation, progress.root)

    async def _new_post(
        self, client: Any, to: ChannelRef, bot_id: str, activity: Activity, progress: Progress
    ) -> None:
        """A new post in a channel: its thread is `{channel};messageid={root}`."""
        params = ConversationParameters(
            is_group=True,
            agent=ChannelAccount(id=bot_id),
            activity=activity,
            tenant_id=to.workspace,
            channel_data={"channel": {"id": to.channel}, "tenant": {"id": to.workspace}},
        )
        made = await client.conversations.create_conversation(params)
        progress.root = str(made.activity_id or "")
        progress.thread = str(made.id or f"{to.channel}{THREAD_SUFFIX}{progress.root}")

    async def _page(self, client: Any, conversation: str, token: str | None) -> Any:
        """One roster page; a throttled or failed read is tried again a few times (the person
        who started the round is waiting), honouring Retry-After."""
        for attempt in range(ROSTER_ATTEMPTS):
            try:
                return await client.conversations.get_conversation_paged_members(
                    conversation, self._settings.roster_page_size, token
                )
            except Exception as exc:
                error = classify(exc)
                if not isinstance(error, DeliveryRetry) or attempt == ROSTER_ATTEMPTS - 1:
                    raise error from None
                await asyncio.sleep(min(error.after or 1.0, ROSTER_WAIT_SECONDS))
        raise AssertionError("unreachable")  # the loop returns or raises

    async def members(self, channel: ChannelRef) -> list[MemberInfo]:
        """Every person in the channel's team (every roster page), bots left out."""
        service_url, _ = await self._where(channel.workspace)
        client = await self._clients.get(service_url)
        found: list[MemberInfo] = []
        token: str | None = None
        while True:
            page = await self._page(client, channel.channel, token)
            for member in page.members or []:
                if member.id and not str(member.id).startswith(BOT_PREFIX):
                    found.append(MemberInfo(str(member.id), str(member.name or member.id)))
            token = page.continuation_token
            if not token:
                return found

"""Posting a Message: a DM or a channel post, its sections as thread replies, its charts as files
in the thread; paced to stay inside Slack's limits so a 429 is the exception.

A message with sections is several calls. If one after the parent fails, the parts already
posted are remembered under the outbox key, so the outbox's retry carries on where it stopped
instead of posting the parent again.

The first post of each message carries the outbox key as message metadata. When a process died
between Slack taking a message and the outbox recording it, the retry asks `find_sent` first:
it looks for that key among the conversation's latest messages (conversations.history with
include_all_metadata) and the outbox records the message found instead of posting it again."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from aiolimiter import AsyncLimiter
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.config import SlackSettings
from bot.domain import ChannelRef, Message
from bot.errors import DeliveryError, DeliveryFailed
from integrations.common.cache import BoundedCache
from integrations.common.split import clip
from integrations.slack.render import Post, message_posts
from integrations.slack.web import classify, error_code

MAX_ALT = 1000  # Slack's limit on an image's alt_txt
log = logging.getLogger(__name__)

# conversations.open is Tier 3 ("50+ per minute"), the tightest limit of a fan-out. Opened DMs
# are cached; on a miss the app's existing DMs are listed first (users.conversations, up to 1,000
# a call), so after a restart only people the app never wrote to cost a conversations.open.
OPEN_PER_MINUTE = 50
DM_LIST_SECONDS = 600
DM_PAGE = 1000
# DM channels remembered (least recently used go first; a forgotten one is looked up again).
DM_CACHE = 50_000
# Half-sent messages waiting for their retry: a retry comes within the outbox's backoff, so an
# entry older than a day is a delivery that was given up on, and the map never grows unbounded.
PROGRESS_CACHE = 10_000
PROGRESS_SECONDS = 86_400.0
# conversations.history is Tier 3 as well; a lookup happens only for a retried delivery.
HISTORY_PER_MINUTE = 50
HISTORY_LIMIT = 100
METADATA_EVENT = "cycles_outbox"
# The bot may not read a conversation's history (no channels:history scope for a public
# channel, or it left): then the lookup cannot tell, and the message is posted again.
UNREADABLE = {"missing_scope", "not_in_channel", "channel_not_found", "not_allowed_token_type"}


@dataclass
class Progress:
    channel: str
    parent_ts: str | None = None
    done: int = 0


def message_id(channel: str, ts: str) -> str:
    """The platform message id the outbox stores: a ts is only unique within its channel."""
    return f"{channel}:{ts}"


class Sender:
    def __init__(
        self,
        settings: SlackSettings,
        client: Callable[[], AsyncWebClient],
        *,
        dm_capacity: int = DM_CACHE,
        progress_capacity: int = PROGRESS_CACHE,
    ) -> None:
        self._client = client
        burst = settings.send_burst
        self._posts = AsyncLimiter(burst, burst / settings.send_rate_per_second)
        self._opens = AsyncLimiter(OPEN_PER_MINUTE, 60)
        self._history = AsyncLimiter(HISTORY_PER_MINUTE, 60)
        self._dms: BoundedCache[str, str] = BoundedCache(dm_capacity)
        self._listed_at: float | None = None
        self._listing = asyncio.Lock()
        self._progress: BoundedCache[str, Progress] = BoundedCache(
            progress_capacity, ttl=PROGRESS_SECONDS
        )

    def remember_dm(self, user_id: str, channel: str) -> None:
        self._dms.put(user_id, channel)

    async def dm_channel(self, user_id: str) -> str:
        cached = self._dms.get(user_id)
        if cached is None:
            await self._list_dms()
            cached = self._dms.get(user_id)
        if cached is not None:
            return cached
        async with self._opens:
            response = await self._client().conversations_open(users=user_id)
        channel = str(response["channel"]["id"])
        self._dms.put(user_id, channel)
        return channel

    async def _list_dms(self) -> None:
        """Learn the app's existing DM conversations (at most every DM_LIST_SECONDS)."""
        async with self._listing:
            now = time.monotonic()
            if self._listed_at is not None and now - self._listed_at < DM_LIST_SECONDS:
                return
            self._listed_at = now
            cursor = ""
            try:
                while True:
                    async with self._opens:
                        response = await self._client().users_conversations(
                            types="im", limit=DM_PAGE, cursor=cursor or None
                        )
                    for channel in response.get("channels") or []:
                        if channel.get("user") and channel.get("id"):
                            self._dms.setdefault(str(channel["user"]), str(channel["id"]))
                    cursor = (response.get("response_metadata") or {}).get("next_cursor") or ""
                    if not cursor:
                        return
            except SlackApiError as exc:
                # Without im:read (an older manifest) conversations.open still works, only slower.
                log.info("listing DMs failed (%s); opening them one by one", error_code(exc))

    async def send(
        self,
        to: ChannelRef,
        message: Message,
        *,
        key: str | None = None,
        thread_ts: str | None = None,
    ) -> str:
        """Post `message` (all of it inside `thread_ts` when given); returns "channel:ts" of the
        parent. Raises DeliveryRetry or DeliveryFailed."""
        try:
            return await self._send(to, message, key, thread_ts)
        except DeliveryError:
            raise
        except Exception as exc:
            error = classify(exc)
            if isinstance(exc, SlackApiError) and error_code(exc) == "channel_not_found":
                self._dms.pop(to.dm_user or "", None)  # a stale cached DM: open it afresh
            raise error from None

    async def _send(
        self, to: ChannelRef, message: Message, key: str | None, thread_ts: str | None
    ) -> str:
        head, replies = message_posts(message)
        posts = head + replies
        files = [Path(p) for p in message.attachments]
        progress = self._progress.pop(key, None) if key else None
        if progress is None:
            channel = await self.dm_channel(to.dm_user) if to.dm_user else to.channel
            progress = Progress(channel, parent_ts=thread_ts)
        total = len(posts) + len(files)
        while progress.done < total:
            try:
                if progress.done < len(posts):
                    tag = key if progress.done == 0 else None
                    ts = await self._post(progress.channel, posts[progress.done], progress, tag)
                    progress.parent_ts = progress.parent_ts or ts
                else:
                    index = progress.done - len(posts)
                    path = files[index]
                    alt = message.alt_text(index)
                    await self._upload(progress.channel, path, progress, alt)
            except Exception as exc:
                error = exc if isinstance(exc, DeliveryError) else classify(exc)
                if key and progress.done > 0 and not isinstance(error, DeliveryFailed):
                    self._progress.put(key, progress)
                raise error from None
            progress.done += 1
        assert progress.parent_ts is not None
        return message_id(progress.channel, progress.parent_ts)

    async def _post(
        self, channel: str, post: Post, progress: Progress, key: str | None = None
    ) -> str:
        metadata = {"event_type": METADATA_EVENT, "event_payload": {"key": key}} if key else None
        async with self._posts:
            response = await self._client().chat_postMessage(
                channel=channel,
                text=post.text,
                blocks=post.blocks,
                thread_ts=progress.parent_ts,
                unfurl_links=False,
                unfurl_media=False,
                metadata=metadata,
            )
        return str(response["ts"])

    async def find_sent(self, to: ChannelRef, key: str) -> str | None:
        """The message posted under outbox `key` ("channel:ts"), if Slack has it."""
        if key in self._progress:
            return None  # part of it went out from this process: `send` carries on from there
        try:
            channel = await self.dm_channel(to.dm_user) if to.dm_user else to.channel
            async with self._history:
                response = await self._client().conversations_history(
                    channel=channel, limit=HISTORY_LIMIT, include_all_metadata=True
                )
        except SlackApiError as exc:
            if error_code(exc) in UNREADABLE:
                log.info("cannot look for delivery %s (%s); sending it", key, error_code(exc))
                return None
            raise classify(exc) from None
        except Exception as exc:
            raise classify(exc) from None
        for found in response.get("messages") or []:
            metadata = found.get("metadata") or {}
            payload = metadata.get("event_payload") or {}
            if metadata.get("event_type") == METADATA_EVENT and payload.get("key") == key:
                return message_id(channel, str(found["ts"]))
        return None

    async def _upload(self, channel: str, path: Path, progress: Progress, alt: str = "") -> None:
        if not await asyncio.to_thread(path.is_file):
            # A chart that is gone is not worth failing the digest over.
            log.warning("attachment %s is missing; posted without it", path.name)
            return
        async with self._posts:
            await self._client().files_upload_v2(
                channel=channel,
                thread_ts=progress.parent_ts,
                file=str(path),
                filename=path.name,
                title=path.stem.replace("-", " ").replace("_", " "),
                alt_txt=clip(alt, MAX_ALT) or None,  # what a screen reader says of the image
            )

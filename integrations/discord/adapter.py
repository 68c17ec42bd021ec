"""The Discord adapter: the seam (start, stop, send, channel_members) over discord.py.

Outgoing messages come from the delivery outbox. A DM opens the person's DM channel once (kept
in memory, paced by `discord.dm_open_rate_per_second`); a message with sections becomes a parent
message and a thread started from it, the sections as embeds; every REST call is paced under
Discord's global limit by `discord.send_rate_per_second`. Each message carries a nonce derived
from the outbox key with `enforce_nonce`, so when a send is retried after a crash or a timeout,
Discord returns the message it already has instead of posting it twice."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from typing import Any

import aiohttp
import discord
from aiolimiter import AsyncLimiter
from discord.http import handle_message_parameters

from bot.domain import Button, ChannelRef, MemberInfo, Message, Platform
from bot.domain.keys import dm_channel_key
from bot.errors import ConfigError, DeliveryError, DeliveryFailed, DeliveryRetry
from bot.ports import Port
from integrations.common.cache import BoundedCache
from integrations.common.errors import by_status, unreachable
from integrations.common.split import split_text
from integrations.discord import customids
from integrations.discord.client import make_client
from integrations.discord.http import (
    RoutedHTTPClient,
    RoutedWebhookAdapter,
    discover_gateway,
    install,
)
from integrations.discord.interactions import InteractionRouter
from integrations.discord.render import (
    CONTENT_LIMIT,
    Outgoing,
    button_view,
    close_files,
    files_for,
    outgoing_content,
    plain_messages,
    section_messages,
    thread_name,
)
from integrations.discord.sync import sync_commands
from integrations.discord.tree import build_tree

log = logging.getLogger(__name__)

START_TIMEOUT = 60.0
STOP_GRACE = 5.0
DM_CACHE = 50_000
THREAD_ARCHIVE_MINUTES = 10080  # a week: a digest thread stays open until the next one
NONCE_LENGTH = 25  # Discord's limit

# Discord error codes that will not change on a retry.
PERMANENT = {
    10003: "unknown channel",
    10004: "unknown server",
    10013: "unknown user",
    50001: "the bot has no access to that channel",
    50007: "cannot send messages to this user (DMs closed, or not in a shared server)",
    50013: "the bot lacks permission there",
    50278: "cannot send messages to this user",
}
THREAD_EXISTS = 160004


def nonce(key: str, part: int) -> str:
    return hashlib.sha256(f"{key}:{part}".encode()).hexdigest()[:NONCE_LENGTH]


def classify(exc: BaseException) -> DeliveryError:
    """A Discord failure -> retry later, or give up (and say why)."""
    if isinstance(exc, discord.RateLimited):
        return DeliveryRetry("rate limited", after=exc.retry_after)
    if isinstance(exc, discord.HTTPException):
        after = exc.response.headers.get("Retry-After") if exc.response else None
        hints = {str(code): why for code, why in PERMANENT.items()}
        return by_status(exc.status, str(exc.code or exc.status), after=after, hints=hints)
    return unreachable(exc)


class DiscordAdapter:
    platform = Platform.DISCORD

    def __init__(self, port: Port) -> None:
        self.port = port
        self.settings = port.settings.discord
        self.tree = build_tree(port.commands, port.template_keys)
        self.webhook = RoutedWebhookAdapter(self.settings.api_url)
        self.router = InteractionRouter(
            settings=self.settings,
            port=port,
            tree=self.tree,
            webhook=self.webhook,
            member_lookup=self._member,
        )
        self.webhook.on_ack = self.router.acknowledged
        self.client: discord.Client | None = None
        self.http: RoutedHTTPClient | None = None
        self._runner: asyncio.Task[None] | None = None
        self._dm_channels: BoundedCache[str, int] = BoundedCache(DM_CACHE)
        self._dm_limiter = AsyncLimiter(self.settings.dm_open_rate_per_second, 1)

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Log in, register the commands if they changed, connect; return once READY."""
        settings = self.settings
        if not settings.enabled:
            raise ConfigError("discord: DISCORD_TOKEN is not set. Fix: export the bot's token.")
        client = make_client(settings)
        limiter = AsyncLimiter(settings.send_rate_per_second, 1)
        http = install(
            client, api_base=settings.api_url, gateway=settings.gateway_url, limiter=limiter
        )
        router = self.router

        async def on_interaction(interaction: discord.Interaction) -> None:
            await router(interaction)

        client.event(on_interaction)
        self.client, self.http = client, http
        try:
            await self._connect(client, http)
        except BaseException:
            await self.stop()
            raise

    async def _connect(self, client: discord.Client, http: RoutedHTTPClient) -> None:
        settings = self.settings
        try:
            await client.login(settings.token.get_secret_value())
        except discord.LoginFailure:
            raise ConfigError(
                "discord: DISCORD_TOKEN was refused. Fix: copy the token again from the "
                "Developer Portal (Bot → Reset Token)."
            ) from None
        except (aiohttp.ClientError, OSError) as exc:
            where = settings.api_url or "discord.com"
            raise ConfigError(
                f"discord: cannot reach {where} ({type(exc).__name__}). Fix: check the network"
                " and DISCORD_API_URL."
            ) from None
        if settings.api_url and not settings.gateway_url:
            http.gateway = await discover_gateway(http)
        application_id = client.application_id
        assert application_id is not None  # login reads the application
        await sync_commands(http, application_id, self.tree, settings, self.port.store)
        self._runner = asyncio.create_task(client.connect(reconnect=True), name="discord")
        ready = asyncio.create_task(client.wait_until_ready())
        done, _ = await asyncio.wait(
            {ready, self._runner}, timeout=START_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if ready in done:
            log.info("discord: connected as %s, %d server(s)", client.user, len(client.guilds))
            return
        ready.cancel()
        if self._runner in done:
            failure = self._runner.exception()
            if isinstance(failure, discord.PrivilegedIntentsRequired):
                raise ConfigError(
                    "discord: the Server Members intent is not enabled for this bot. Fix: turn "
                    "it on (Developer Portal → Bot → Privileged Gateway Intents), or set "
                    "discord.members_intent = false."
                )
            raise ConfigError(f"discord: the gateway connection failed ({failure}).")
        raise ConfigError(f"discord: not ready after {START_TIMEOUT:.0f}s. Fix: check the network.")

    async def stop(self) -> None:
        """Let interactions in flight finish (briefly), then disconnect."""
        client, self.client = self.client, None
        if client is None:
            return
        if not await self.router.inflight.wait(STOP_GRACE):
            log.warning("discord: stopped with interactions still running")
        await client.close()
        if self._runner is not None:
            with contextlib.suppress(BaseException):
                await self._runner
            self._runner = None

    def _require(self) -> tuple[discord.Client, RoutedHTTPClient]:
        if self.client is None or self.http is None:
            raise DeliveryRetry("discord is not connected")
        return self.client, self.http

    def _member(self, workspace: str, user_id: int) -> discord.Member | None:
        if self.client is None or not workspace.isdigit():
            return None
        guild = self.client.get_guild(int(workspace))
        return guild.get_member(user_id) if guild is not None else None

    # --- sending -------------------------------------------------------------------------------

    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        """Post `message`; returns the id of the (first) Discord message."""
        _, http = self._require()
        try:
            if to.dm_user is not None:
                channel_id = await self._dm_channel(http, to.dm_user)
            elif to.channel.isdigit():
                channel_id = int(to.channel)
            else:
                raise DeliveryFailed(f"not a Discord channel id: {to.channel[:40]}")
            view = await self._view(to.workspace, message)
            if message.sections and not to.is_dm:
                views = [await self._buttons(to.workspace, x.buttons) for x in message.sections]
                return await self._post_with_thread(http, channel_id, message, view, views, key)
            ids = []
            for part, out in enumerate(plain_messages(message, view)):
                ids.append(await self._create(http, channel_id, out, nonce(key, part)))
            return str(ids[0])
        except (DeliveryRetry, DeliveryFailed):
            raise
        except (discord.HTTPException, discord.RateLimited) as exc:
            raise classify(exc) from None
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise classify(exc) from None

    async def _view(self, workspace: str, message: Message) -> discord.ui.View | None:
        return await self._buttons(workspace, message.buttons)

    async def _buttons(self, workspace: str, buttons: tuple[Button, ...]) -> discord.ui.View | None:
        store = self.port.store
        pairs = [(b, await customids.for_button(store, workspace, b.command)) for b in buttons]
        return button_view(pairs)

    async def _dm_channel(self, http: RoutedHTTPClient, user_id: str) -> int:
        """The DM channel with `user_id`, opened once and remembered: in memory, and through
        the port's store, so that a restart (or another replica) does not open it again.
        Opening one is paced (`dm_open_rate_per_second`): a round to 1,000 people the bot
        wrote to before would otherwise take minutes after every restart."""
        cached = self._dm_channels.get(user_id)
        if cached is not None:
            return cached
        if not user_id.isdigit():
            raise DeliveryFailed(f"not a Discord user id: {user_id[:40]}")
        key = dm_channel_key(str(Platform.DISCORD), user_id)
        stored = await self.port.store.get(key)
        if stored is not None and stored.isdigit():
            self._dm_channels.put(user_id, int(stored))
            return int(stored)
        async with self._dm_limiter:
            data = await http.start_private_message(int(user_id))
        channel_id = int(data["id"])
        await self.port.store.put(key, str(channel_id))
        self._dm_channels.put(user_id, channel_id)
        return channel_id

    async def _create(
        self, http: RoutedHTTPClient, channel_id: int, out: Outgoing, nonce_value: str
    ) -> int:
        files = files_for(out.attachments, out.alt_texts)
        kwargs: dict[str, Any] = {
            "nonce": nonce_value,
            "allowed_mentions": discord.AllowedMentions.none(),
        }
        if out.content:
            kwargs["content"] = outgoing_content(out.content)
        if out.embeds:
            kwargs["embeds"] = out.embeds
        if out.view is not None:
            kwargs["view"] = out.view
        if files:
            kwargs["files"] = files
        try:
            with handle_message_parameters(**kwargs) as params:
                data = await http.send_message(channel_id, params=params)
        finally:
            close_files(files)
        return int(data["id"])

    async def _post_with_thread(
        self,
        http: RoutedHTTPClient,
        channel_id: int,
        message: Message,
        view: discord.ui.View | None,
        views: list[discord.ui.View | None],
        key: str,
    ) -> str:
        """The headline as the parent message, the rest in a thread started from it; `views`
        are the sections' own buttons."""
        chunks = split_text(outgoing_content(message.text), CONTENT_LIMIT)
        parent = Outgoing(
            content=chunks[0],
            view=view,
            attachments=message.attachments,
            alt_texts=message.alt_texts,
        )
        parent_id = await self._create(http, channel_id, parent, nonce(key, 0))
        try:
            thread = await http.start_thread_with_message(
                channel_id,
                parent_id,
                name=thread_name(message),
                auto_archive_duration=THREAD_ARCHIVE_MINUTES,  # type: ignore[arg-type]
            )
            thread_id = int(thread["id"])
        except discord.Forbidden:
            # No Create Public Threads here: the rest follows in the channel itself.
            log.warning("discord: no permission to start threads in %s", channel_id)
            thread_id = channel_id
        except discord.HTTPException as exc:
            if exc.code != THREAD_EXISTS:
                raise
            thread_id = parent_id  # a thread started from a message shares its id
        rest = [Outgoing(content=c) for c in chunks[1:]]
        rest += section_messages(message.sections, views)
        for part, out in enumerate(rest, start=1):
            await self._create(http, thread_id, out, nonce(key, part))
        return str(parent_id)

    # --- members -------------------------------------------------------------------------------

    async def channel_members(self, channel: ChannelRef) -> list[MemberInfo]:
        """Every human member who can see the channel.

        With the members intent the member list is complete (the server is chunked first if
        needed); without it, only the members the bot has seen are known, and that is logged."""
        client, _ = self._require()
        guild = client.get_guild(int(channel.workspace)) if channel.workspace.isdigit() else None
        if guild is None:
            log.warning("discord: server %s is not known to the bot", channel.workspace)
            return []
        if self.settings.members_intent and not guild.chunked:
            await guild.chunk(cache=True)
        elif not self.settings.members_intent:
            log.warning(
                "discord: the members intent is off; %s member(s) known in server %s",
                len(guild.members),
                guild.id,
            )
        place = guild.get_channel_or_thread(int(channel.channel or "0"))
        if place is None:
            log.warning("discord: channel %s is not known to the bot", channel.channel)
            return []
        return [
            MemberInfo(str(m.id), m.display_name)
            for m in guild.members
            if not m.bot and not m.system and place.permissions_for(m).view_channel
        ]

"""The discord.py client: only the intents the bot needs, sharded when configured.

Intents:
- `guilds`: the server's channels, roles and threads, to know who can see a channel and to
  read roles for facilitators and leaders;
- `members` (privileged, on by default): the member list, so a round reaches everyone who can
  see the channel. With `discord.members_intent = false` the bot only knows members it has seen
  (those who used a command), and says so when it starts a round.
Not requested: message content, presences, DM messages: everything happens through slash
commands, buttons and forms, which Discord delivers without any intent."""

from __future__ import annotations

import logging
from typing import Any

import discord

from bot.config import DiscordSettings
from bot.errors import ConfigError


def intents_for(settings: DiscordSettings) -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.members = settings.members_intent
    return intents


def make_client(settings: DiscordSettings) -> discord.Client:
    """A Client, or an AutoShardedClient when `shard_count` is set (with `shard_ids`, this
    process runs only those shards: the way large installations split guilds across processes)."""
    options: dict[str, Any] = {
        "intents": intents_for(settings),
        "guild_ready_timeout": settings.guild_ready_timeout,
        "chunk_guilds_at_startup": settings.members_intent,
        "max_messages": None,  # the bot never reads messages back: keep none in memory
        # Member text never pings anyone: the default for every send, which each send that
        # carries member text also states itself.
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    # The bot never joins voice: discord.py's warnings about voice libraries are noise here.
    quiet = logging.getLogger("discord.client")
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        return _client(settings, options)
    finally:
        quiet.setLevel(level)


def _client(settings: DiscordSettings, options: dict[str, Any]) -> discord.Client:
    if settings.shard_count is not None:
        ids = settings.shard_ids
        if ids is not None and any(not 0 <= i < settings.shard_count for i in ids):
            raise ConfigError(
                f"config: discord.shard_ids = {ids} is invalid (each must be from 0 to "
                f"{settings.shard_count - 1}). Fix: list shard numbers below shard_count."
            )
        if ids is not None:
            options["shard_ids"] = ids
        return discord.AutoShardedClient(shard_count=settings.shard_count, **options)
    if settings.shard_ids is not None:
        raise ConfigError(
            "config: discord.shard_ids is set without discord.shard_count. Fix: set both."
        )
    return discord.Client(**options)

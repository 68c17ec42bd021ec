"""Registering `/cycles` with Discord, only when it changed.

Discord rate-limits command registration hard (and global commands take a while to spread), so
the bot registers on start only when the hash of what it would register differs from the one in
the core's key-value store. A fresh database has no hash and registers. During development the
commands go to `discord.guild_ids` (instant); otherwise they are global."""

from __future__ import annotations

import logging

from discord.http import HTTPClient

from bot.config import DiscordSettings
from bot.ports import KeyValueStore
from integrations.discord.tree import Tree

log = logging.getLogger(__name__)

STATE_KEY = "discord:command_tree_hash"


def scope_of(settings: DiscordSettings, application_id: int) -> str:
    where = ",".join(str(g) for g in sorted(settings.guild_ids)) if settings.guild_ids else "global"
    return f"{application_id}:{where}"


async def sync_commands(
    http: HTTPClient,
    application_id: int,
    tree: Tree,
    settings: DiscordSettings,
    store: KeyValueStore,
) -> bool:
    """Register the command tree if it changed; True when it was registered."""
    digest = tree.digest(scope_of(settings, application_id))
    if await store.get(STATE_KEY) == digest:
        log.info("discord: commands unchanged; not registering")
        return False
    payload = [tree.payload()]
    if settings.guild_ids:
        for guild_id in settings.guild_ids:
            await http.bulk_upsert_guild_commands(application_id, guild_id, payload)
        log.info("discord: commands registered in %d guild(s)", len(settings.guild_ids))
    else:
        await http.bulk_upsert_global_commands(application_id, payload)
        log.info("discord: commands registered globally")
    await store.put(STATE_KEY, digest)
    return True

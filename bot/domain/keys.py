"""Keys of the adapters' key-value store (bot.ports.KeyValueStore) that the core must know too:
those naming a person, so that `forget-me` removes them with the rest of what is theirs."""

from __future__ import annotations


def dm_channel_key(platform: str, user_id: str) -> str:
    """Where an adapter keeps the id of its DM channel with a person (Discord opens one per
    person and remembers it across restarts)."""
    return f"{platform}:dm:{user_id}"

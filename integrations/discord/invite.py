"""The link that adds the bot to a server: the scopes and channel permissions the code uses, no
more. The README prints it; a test keeps the two in step."""

from __future__ import annotations

import discord

SCOPES = ("bot", "applications.commands")


def permissions() -> discord.Permissions:
    """Enough to post a headline with a thread of sections and a chart. Direct messages need no
    permission, and the bot never reads a channel's messages (so no Read Message History)."""
    return discord.Permissions(
        view_channel=True,  # the channel a command came from, and who can see it
        send_messages=True,  # round summaries' and digests' headlines
        send_messages_in_threads=True,  # their sections, in the thread under the headline
        create_public_threads=True,  # that thread
        embed_links=True,  # sections are embeds
        attach_files=True,  # digest charts
    )


def invite_url(application_id: str) -> str:
    return discord.utils.oauth_url(application_id, permissions=permissions(), scopes=SCOPES)

"""Who is acting, and where: a Discord interaction -> the core's Actor and ChannelRef.

Roles from the platform: the server owner and members with Administrator are admins; Manage
Server, or a role listed in `discord.facilitator_roles`, makes a facilitator; a role in
`discord.leader_roles` a leader. Roles are matched by id or by name (case-insensitive)."""

from __future__ import annotations

import discord

from bot.config import DiscordSettings
from bot.domain import Actor, ChannelRef, Platform, Role


def _matches(member: discord.Member, configured: list[str]) -> bool:
    wanted = {c.strip().lower() for c in configured if c.strip()}
    if not wanted:
        return False
    return any(str(r.id) in wanted or r.name.lower() in wanted for r in member.roles)


def platform_role(
    member: discord.Member | discord.User | None,
    settings: DiscordSettings,
    permissions: discord.Permissions | None = None,
) -> Role:
    """The role Discord gives this person. `permissions` are the interaction's resolved ones
    (Discord computes them, overwrites included); without them the guild-wide ones count."""
    if not isinstance(member, discord.Member):
        return Role.MEMBER
    perms = permissions if permissions is not None else member.guild_permissions
    if member.guild.owner_id == member.id or perms.administrator:
        return Role.ADMIN
    if perms.manage_guild or _matches(member, settings.facilitator_roles):
        return Role.FACILITATOR
    if _matches(member, settings.leader_roles):
        return Role.LEADER
    return Role.MEMBER


def display_name(user: discord.Member | discord.User) -> str:
    return user.display_name or user.name


def actor_for(
    interaction: discord.Interaction,
    settings: DiscordSettings,
    *,
    workspace: str | None = None,
    member: discord.Member | None = None,
) -> Actor:
    """The person behind `interaction`. In a DM there is no guild: `workspace` (carried by the
    button that was pressed) says which server the person belongs to, and `member` is their
    cached membership there, if any."""
    user = interaction.user
    if interaction.guild_id is not None:
        ws = str(interaction.guild_id)
        role = platform_role(user, settings, interaction.permissions)
        name = display_name(user)
    else:
        ws = workspace or ""
        role = platform_role(member, settings)
        name = display_name(member or user)
    return Actor(Platform.DISCORD, ws, str(user.id), name, None, role)


def channel_for(interaction: discord.Interaction, *, workspace: str | None = None) -> ChannelRef:
    """Where the interaction happened. A thread counts as its parent channel (digest threads
    belong to the group's channel); a DM carries the person's id."""
    channel = interaction.channel
    if interaction.guild_id is None:
        dm = str(interaction.channel_id or "")
        return ChannelRef(Platform.DISCORD, workspace or "", dm, dm_user=str(interaction.user.id))
    channel_id = interaction.channel_id
    if isinstance(channel, discord.Thread) and channel.parent_id is not None:
        channel_id = channel.parent_id
        channel = channel.parent
    name = str(getattr(channel, "name", "") or "")
    return ChannelRef(Platform.DISCORD, str(interaction.guild_id), str(channel_id or ""), name=name)

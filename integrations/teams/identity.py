"""Who is acting, and where: a Teams activity -> the core's Actor and ChannelRef.

The workspace is the Microsoft 365 tenant. A channel is the Teams channel's conversation id
(a reply thread `…;messageid=…` counts as its channel); a personal chat carries the person's
id. Roles beyond member come from `bot.facilitators` / `bot.leaders` (`teams:<user id>`) and
`role add`: the Bot Connector does not say who owns a team."""

from __future__ import annotations

import re
from typing import Any

from microsoft_agents.activity import Activity

from bot.domain import Actor, ChannelRef, Platform

THREAD_SUFFIX = ";messageid="
_MENTION = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)


def tenant_of(activity: Activity) -> str:
    conversation = activity.conversation
    tenant = getattr(conversation, "tenant_id", None) if conversation else None
    if not tenant:
        data = _channel_data(activity)
        tenant = (data.get("tenant") or {}).get("id")
    return str(tenant or "")


def _channel_data(activity: Activity) -> dict[str, Any]:
    data = activity.channel_data
    if isinstance(data, dict):
        return data
    if data is not None and hasattr(data, "model_dump"):
        dumped = data.model_dump(by_alias=True, exclude_none=True)
        return dumped if isinstance(dumped, dict) else {}
    return {}


def is_personal(activity: Activity) -> bool:
    conversation = activity.conversation
    kind = getattr(conversation, "conversation_type", None) if conversation else None
    if kind:
        return str(kind) == "personal"
    return not bool(getattr(conversation, "is_group", False))


def channel_id(conversation_id: str) -> str:
    """A channel thread's conversation id without its `;messageid=…` part."""
    return conversation_id.split(THREAD_SUFFIX, 1)[0]


def actor_for(activity: Activity) -> Actor:
    person = activity.from_property
    user_id = str(person.id) if person and person.id else ""
    name = str(person.name) if person and person.name else user_id
    timezone = str(activity.local_timezone) if activity.local_timezone else None
    return Actor(Platform.TEAMS, tenant_of(activity), user_id, name, timezone)


def channel_for(activity: Activity) -> ChannelRef:
    """Where the activity happened: the personal chat (with the person's id) or the channel."""
    conversation = activity.conversation
    conversation_id = str(conversation.id) if conversation and conversation.id else ""
    tenant = tenant_of(activity)
    if is_personal(activity):
        person = activity.from_property
        user = str(person.id) if person and person.id else ""
        return ChannelRef(Platform.TEAMS, tenant, conversation_id, dm_user=user)
    data = _channel_data(activity)
    name = str((data.get("channel") or {}).get("name") or "")
    return ChannelRef(Platform.TEAMS, tenant, channel_id(conversation_id), name=name)


def command_text(activity: Activity) -> str:
    """The command typed: the bot's @mention removed, anyone else's @mention replaced by their
    id (`role add @Sam facilitator` names Sam by id), Teams' non-breaking spaces made plain."""
    text = activity.text or ""
    bot = activity.recipient.id if activity.recipient else None
    for mention in activity.get_mentions():
        shown = getattr(mention, "text", None)
        who = getattr(mention, "mentioned", None)
        if not shown or who is None:
            continue
        text = text.replace(shown, " " if who.id == bot else f" {who.id} ")
    text = _MENTION.sub(" ", text)  # a mention without its entity: markup only
    return " ".join(text.replace("\u00a0", " ").split())

"""Plain types that cross the seam between the core and the adapters."""

from bot.domain.messages import Button, Form, FormField, Message, Reply, Section
from bot.domain.people import Actor, ChannelRef, MemberInfo, Platform, Role, Visibility

__all__ = [
    "Actor",
    "Button",
    "ChannelRef",
    "Form",
    "FormField",
    "MemberInfo",
    "Message",
    "Platform",
    "Reply",
    "Role",
    "Section",
    "Visibility",
]

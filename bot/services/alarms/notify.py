"""Who hears about a new alarm, and the DM they get (through the outbox)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from bot.config import Settings
from bot.domain import Button, ChannelRef, Message, Platform
from bot.services import members, outbox
from bot.services.alarms.rules import title
from bot.store.models import Alarm, Group, Member


async def facilitators(session: AsyncSession, settings: Settings, group: Group) -> list[Member]:
    """Facilitators and admins of the group's workspaces, and the configured facilitator ids."""
    return await members.holding_role(
        session, group, ("facilitator", "admin"), settings.bot.facilitators
    )


def dm_to(member: Member) -> ChannelRef:
    ws = member.workspace
    return ChannelRef(Platform(ws.platform), ws.external_id, member.user_id, member.user_id)


async def notify_facilitators(
    session: AsyncSession, settings: Settings, group: Group, alarms: Sequence[Alarm]
) -> int:
    """One DM per (alarm, facilitator), through the outbox. Returns how many were queued."""
    people = await facilitators(session, settings, group)
    queued = 0
    for alarm in alarms:
        message = Message(
            f"Alarm #{alarm.id} in {group.name} ({title(alarm.rule)}): {alarm.detail}",
            buttons=(
                Button("Acknowledge", f"alarms ack {alarm.id}", "primary"),
                Button("Resolve", f"alarms resolve {alarm.id}"),
            ),
        )
        for member in people:
            key = f"alarm:{alarm.id}:{member.id}"
            if await outbox.enqueue(
                session, key=key, to=dm_to(member), message=message, member_id=member.id
            ):
                queued += 1
    return queued

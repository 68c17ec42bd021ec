"""The console adapter: DMs and channel posts printed as they would arrive."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TextIO

from bot.domain import ChannelRef, MemberInfo, Message, Platform
from integrations.console.render import render_message

WORKSPACE = "console"
CHANNEL = "learning"


@dataclass
class ConsoleAdapter:
    """Everyone who has used the console is a member of its one channel, #learning."""

    out: TextIO
    roster: dict[str, MemberInfo] = field(default_factory=dict)
    platform: Platform = Platform.CONSOLE
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _last_dm: Message | None = None

    def join(self, name: str, timezone: str | None = None) -> None:
        if name not in self.roster:
            self.roster[name] = MemberInfo(name, name.capitalize(), timezone)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None

    async def send(self, to: ChannelRef, message: Message, *, key: str) -> str:
        where = f"DM to {to.dm_user}" if to.is_dm else f"#{to.channel}"
        if to.is_dm and message == self._last_dm:
            # A fan-out sends everyone the same prompt: show it once, then who else got it.
            self.out.write(f"  ── {where} ── (the same message)\n")
        else:
            self.out.write(f"  ── {where} ──\n{render_message(message, '  │ ')}\n")
        self._last_dm = message if to.is_dm else None
        self.out.flush()
        return f"console-{next(self._ids)}"

    async def channel_members(self, channel: ChannelRef) -> list[MemberInfo]:
        return list(self.roster.values())

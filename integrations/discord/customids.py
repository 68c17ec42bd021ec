"""Custom ids: what a button or form component means, written into the component itself.

A button carries the command it runs and the server it belongs to, so a click is understood
without any memory of the message: an Answer button sent last week still works after any number
of restarts (a DM has no server, hence the workspace in the id). Discord allows 100 characters;
a longer command is kept in the core's key-value store under a hash of itself, which makes the
id stable.

  cy:c:<workspace>:<command>   a button that runs <command>
  cy:h:<workspace>:<hash>      the same, the command kept under the hash
  cy:f:<token>:<action>        a component of an open form (forms.py)"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.ports import KeyValueStore

PREFIX = "cy"
LIMIT = 100
_STATE = "discord:button:"


@dataclass(frozen=True)
class ButtonTarget:
    workspace: str
    command: str


async def for_button(store: KeyValueStore, workspace: str, command: str) -> str:
    direct = f"{PREFIX}:c:{workspace}:{command}"
    if len(direct) <= LIMIT:
        return direct
    digest = hashlib.sha256(command.encode()).hexdigest()[:32]
    await store.add(_STATE + digest, command)
    return f"{PREFIX}:h:{workspace}:{digest}"


async def button_target(store: KeyValueStore, custom_id: str) -> ButtonTarget | None:
    parts = custom_id.split(":", 3)
    if len(parts) != 4 or parts[0] != PREFIX:
        return None
    _, kind, workspace, rest = parts
    if kind == "c":
        return ButtonTarget(workspace, rest)
    if kind == "h":
        command = await store.get(_STATE + rest)
        return ButtonTarget(workspace, command) if command is not None else None
    return None


def form_id(token: str, action: str) -> str:
    return f"{PREFIX}:f:{token}:{action}"


def parse_form_id(custom_id: str) -> tuple[str, str] | None:
    """(token, action) for a form component's id."""
    parts = custom_id.split(":", 3)
    if len(parts) != 4 or parts[:2] != [PREFIX, "f"]:
        return None
    return parts[2], parts[3]

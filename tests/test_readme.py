"""The README matches the code: its command table against the command registry (every command,
with who may run it), the Slack scopes against the manifest, the Discord invite against the
permissions the code asks for."""

from __future__ import annotations

import re
from pathlib import Path

import discord

from bot.commands import all_specs
from bot.commands.registry import find
from bot.config import load_settings
from bot.domain import Role
from integrations.discord.invite import permissions
from integrations.slack.manifest import manifest

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
WHO = {"everyone": Role.MEMBER, "leaders": Role.LEADER, "facilitators": Role.FACILITATOR}
WHO["admins"] = Role.ADMIN


def section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def command_rows() -> list[tuple[list[str], str]]:
    """(the words of each command in a row's first cell, that row's `who`)."""
    rows = []
    for line in section("Commands").splitlines():
        if not line.startswith("| `"):
            continue
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        for usage in re.findall(r"`([^`]+)`", cells[0]):
            words = []
            for token in usage.replace("\\|", "|").split():
                if token[0] in "[<" or "|" in token or "=" in token:
                    break  # arguments from here on
                words.append(token)
            rows.append((words, cells[1]))
    return rows


def test_every_documented_command_exists_and_every_command_is_documented() -> None:
    specs = all_specs()
    exact: set[str] = set()
    for words, who in command_rows():
        found = find(specs, words)
        assert found is not None, f"README documents `{' '.join(words)}`, which does not exist"
        spec, rest = found
        # Words after the command's path are literal arguments its usage names (`away for`).
        assert set(rest) <= set(re.split(r"[\s\[\]|<>]+", spec.usage)), words
        role = WHO[who.split()[0]]
        # A row may name a stricter role (setting a schedule) but never a looser one.
        assert role >= spec.min_role, f"`{' '.join(words)}`: README says {who}"
        if role == spec.min_role:
            exact.add(spec.name)
    missing = {spec.name for spec in specs} - exact
    assert not missing, f"not in the README's command table with its roles: {sorted(missing)}"


def test_the_slack_scopes_are_the_manifests() -> None:
    env = {"CYCLES_CONFIG": "none", "CYCLES_SLACK__FACILITATOR_USERGROUP": "S1"}
    scopes = manifest(load_settings(path=None, env=env))["oauth_config"]["scopes"]["bot"]
    slack = section("Slack")
    listed = set(re.findall(r"^- `([a-z.:]+)`", slack, flags=re.M))
    for pair in re.findall(r"^- `([a-z.:]+)`, `([a-z.:]+)`", slack, flags=re.M):
        listed |= set(pair)
    assert listed == set(scopes)


def test_the_discord_invite_is_the_permissions_the_code_asks_for() -> None:
    value = permissions().value
    discord_section = section("Discord")
    assert f"permissions={value}" in discord_section
    assert f"`{value}` is " in discord_section
    names = {name for name, on in permissions() if on}
    assert "read_message_history" not in names
    # Each permission's name as Discord's UI spells it, and no other.
    shown = {
        "read_messages": "View Channels",  # view_channel, by its older name
        "send_messages": "Send Messages",
        "send_messages_in_threads": "Send Messages in Threads",
        "create_public_threads": "Create Public Threads",
        "embed_links": "Embed Links",
        "attach_files": "Attach Files",
    }
    assert names == set(shown)
    sentence = discord_section.split(f"`{value}` is ", 1)[1].split(":", 1)[0]
    for name in shown.values():
        assert name in sentence, name
    assert value == discord.Permissions(**dict.fromkeys(shown, True)).value

"""The Teams app manifest for `cycles teams-manifest`: `manifest.json` of the app package that
is uploaded to Teams (zipped with a 192×192 colour icon and a 32×32 outline icon, see the
README). The bot is the Azure Bot registered with TEAMS_APP_ID; it works in personal chats and
in teams' channels, and lists the main commands with their help."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from bot.config import Settings
from bot.domain.views import CommandInfo
from bot.errors import ConfigError
from integrations.common.split import clip

SCHEMA = "https://developer.microsoft.com/json-schemas/teams/v1.17/MicrosoftTeams.schema.json"
MANIFEST_VERSION = "1.17"
SCOPES = ["personal", "team"]
COLOR_ICON = "color.png"
OUTLINE_ICON = "outline.png"
# What Teams offers as you type (at most 10 a list; title 32 characters, description 128).
MAIN_COMMANDS = (
    "help",
    "round start",
    "round status",
    "checkin",
    "experiment new",
    "experiment list",
    "cycle list",
    "digest preview",
    "privacy",
    "export",
)
SHORT = "Reflection rounds, experiment check-ins and a weekly sensemaking digest."
FULL = (
    "Learning Cycles keeps the rhythm of a Human Learning Systems practice where your team "
    "already works: reflection rounds that ask everyone the same few questions, quick check-ins "
    "on each experiment, and a weekly digest of what the group is learning, in the members' own "
    "words. Every entry can be shared with the group, with facilitators only, or kept private."
)


def _check(settings: Settings) -> None:
    if not settings.teams.app_id:
        raise ConfigError(
            "teams-manifest: TEAMS_APP_ID is not set. Fix: register the bot in Azure (see the "
            "README's Teams section) and set TEAMS_APP_ID to its Microsoft App ID."
        )
    if not settings.teams.website_url.startswith("https://"):
        raise ConfigError(
            "teams-manifest: [teams] website_url must be an https:// address (Teams shows it "
            "as the app's website). Fix: set it in bot.toml or CYCLES_TEAMS__WEBSITE_URL."
        )


def manifest(settings: Settings, commands: Sequence[CommandInfo]) -> dict[str, Any]:
    """The manifest as data. Raises ConfigError without TEAMS_APP_ID or a website."""
    _check(settings)
    teams = settings.teams
    app_id = teams.app_id
    known = {c.name: c for c in commands}
    listed = [
        {"title": clip(name, 32), "description": clip(known[name].summary, 128)}
        for name in MAIN_COMMANDS
        if name in known
    ]
    site = teams.website_url.rstrip("/")
    return {
        "$schema": SCHEMA,
        "manifestVersion": MANIFEST_VERSION,
        "version": "1.0.0",
        "id": app_id,
        "developer": {
            "name": teams.developer_name,
            "websiteUrl": site,
            "privacyUrl": teams.privacy_url or site,
            "termsOfUseUrl": teams.terms_url or site,
        },
        "name": {"short": "Learning Cycles", "full": "Learning Cycles"},
        "description": {"short": SHORT, "full": FULL},
        "icons": {"color": COLOR_ICON, "outline": OUTLINE_ICON},
        "accentColor": "#2E6B5E",
        "bots": [
            {
                "botId": app_id,
                "scopes": SCOPES,
                "isNotificationOnly": False,
                "supportsFiles": False,
                "commandLists": [{"scopes": SCOPES, "commands": listed}],
            }
        ],
        "permissions": ["identity", "messageTeamMembers"],
        "validDomains": [],
    }


def render_manifest(settings: Settings, commands: Sequence[CommandInfo]) -> str:
    return json.dumps(manifest(settings, commands), indent=2, ensure_ascii=False)

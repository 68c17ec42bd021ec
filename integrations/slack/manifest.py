"""The Slack app manifest for `cycles slack-manifest`: paste it into api.slack.com/apps →
Create New App → From a manifest. Socket Mode, unless slack.mode is "http" (or "auto" with a
slack.public_url set); HTTP mode takes its request URLs from slack.public_url. It asks for the
scopes the configured features need: run it again after setting or removing a facilitator user
group, and reinstall the app."""

from __future__ import annotations

import json
from typing import Any

from bot.config import Settings
from bot.errors import ConfigError
from integrations.slack.http import EVENTS_PATH

COMMAND = "/cycles"
# Only what the code calls. No chat:write.public: the bot posts only in channels it was invited to.
BOT_SCOPES = (
    "commands",  # the /cycles slash command
    "chat:write",  # DMs, digests, round summaries
    "im:write",  # conversations.open: start the DM for a prompt
    # users.conversations: find the DMs the app already has in one call, so a round does not
    # pay conversations.open (about 50 a minute) again for everyone it wrote to before.
    "im:read",
    "im:history",  # message.im: replies typed in a prompt's DM thread
    "channels:read",  # conversations.members of public channels
    "groups:read",  # ... and of private channels the app is in
    "users:read",  # names, timezones, who is a workspace admin
    "files:write",  # digest charts, and `export group` files in the facilitator's DM
)
USERGROUP_SCOPE = "usergroups:read"  # only with [slack] facilitator_usergroup


def bot_scopes(settings: Settings) -> list[str]:
    """The bot scopes the configured features use, and no more."""
    scopes = list(BOT_SCOPES)
    if settings.slack.facilitator_usergroup:
        scopes.append(USERGROUP_SCOPE)
    return scopes


BOT_EVENTS = ("app_home_opened", "message.im")


def manifest(settings: Settings) -> dict[str, Any]:
    slack = settings.slack
    socket_mode = slack.mode == "socket" or (slack.mode == "auto" and not slack.public_url)
    request_url = ""
    if not socket_mode:
        if not slack.public_url.startswith("https://"):
            raise ConfigError(
                "config: slack.public_url must be the https:// address Slack can reach for an "
                "HTTP-mode manifest. Fix: set slack.public_url, or use Socket Mode "
                "(slack.mode = 'auto' with SLACK_APP_TOKEN)."
            )
        request_url = slack.public_url.rstrip("/") + EVENTS_PATH
    command: dict[str, Any] = {
        "command": COMMAND,
        "description": "Reflection rounds, experiments, check-ins and digests",
        "usage_hint": "help | round start weekly-reflection for 2d | checkin | digest now",
        "should_escape": False,
    }
    events: dict[str, Any] = {"bot_events": list(BOT_EVENTS)}
    interactivity: dict[str, Any] = {"is_enabled": True}
    if request_url:
        command["url"] = request_url
        events["request_url"] = request_url
        interactivity["request_url"] = request_url
    return {
        "_metadata": {"major_version": 1, "minor_version": 1},
        "display_information": {
            "name": "Learning Cycles",
            "description": "Reflection rounds, experiment check-ins and weekly sensemaking "
            "digests for learning groups.",
            "background_color": "#2c4a3e",
        },
        "features": {
            "app_home": {
                "home_tab_enabled": True,
                "messages_tab_enabled": True,
                "messages_tab_read_only_enabled": False,
            },
            "bot_user": {"display_name": "Learning Cycles", "always_online": True},
            "slash_commands": [command],
        },
        "oauth_config": {"scopes": {"bot": bot_scopes(settings)}},
        "settings": {
            "event_subscriptions": events,
            "interactivity": interactivity,
            "org_deploy_enabled": False,
            "socket_mode_enabled": socket_mode,
            "token_rotation_enabled": False,
        },
    }


def render_manifest(settings: Settings) -> str:
    """The manifest as JSON (Slack's manifest editor takes JSON as well as YAML)."""
    return json.dumps(manifest(settings), indent=2, ensure_ascii=False) + "\n"

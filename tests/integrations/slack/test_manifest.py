from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError
from integrations.slack.manifest import manifest, render_manifest

SLACK_CODE = Path(__file__).resolve().parents[3] / "integrations" / "slack"
# Each scope, and what in the adapter's code uses it (a Web API method, an event, the command).
USED_BY = {
    "commands": '"/cycles"',
    "chat:write": "chat_postMessage(",
    "im:write": "conversations_open(",
    "im:read": "users_conversations(",  # types="im"
    "im:history": "conversations_history(",  # a DM's history, and the message.im event
    "channels:read": "conversations_members(",
    "groups:read": "conversations_members(",
    "users:read": "users_info(",
    "usergroups:read": "usergroups_users_list(",
    "files:write": "files_upload_v2(",
}


def settings_with(tmp_path: Path, **env: str) -> Settings:
    return load_settings(path=None, env={"CYCLES_CONFIG": "none", **env})


def test_socket_mode_manifest_has_the_command_scopes_and_events(tmp_path: Path) -> None:
    data = json.loads(render_manifest(settings_with(tmp_path)))
    assert data == manifest(settings_with(tmp_path))
    [command] = data["features"]["slash_commands"]
    assert command["command"] == "/cycles"
    assert "url" not in command
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "im:write", "im:history", "users:read"} <= scopes
    assert "files:write" in scopes  # charts are on by default
    assert {"channels:read", "groups:read"} <= scopes
    settings = data["settings"]
    assert settings["socket_mode_enabled"] is True
    assert settings["interactivity"] == {"is_enabled": True}
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_home_opened", "message.im"}
    assert data["features"]["app_home"]["home_tab_enabled"] is True


def test_http_mode_manifest_points_every_url_at_the_events_endpoint(tmp_path: Path) -> None:
    data = manifest(
        settings_with(
            tmp_path, CYCLES_SLACK__MODE="http", CYCLES_SLACK__PUBLIC_URL="https://cycles.example/"
        )
    )
    url = "https://cycles.example/slack/events"
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["features"]["slash_commands"][0]["url"] == url
    assert data["settings"]["event_subscriptions"]["request_url"] == url
    assert data["settings"]["interactivity"]["request_url"] == url


def test_a_public_url_alone_means_http_mode(tmp_path: Path) -> None:
    data = manifest(settings_with(tmp_path, CYCLES_SLACK__PUBLIC_URL="https://cycles.example"))
    assert data["settings"]["socket_mode_enabled"] is False
    assert data["settings"]["interactivity"]["request_url"].endswith("/slack/events")


def test_http_mode_needs_a_public_url(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"slack\.public_url"):
        manifest(settings_with(tmp_path, CYCLES_SLACK__MODE="http"))


def scopes_for(tmp_path: Path, **env: str) -> list[str]:
    scopes: list[str] = manifest(settings_with(tmp_path, **env))["oauth_config"]["scopes"]["bot"]
    return scopes


def test_the_manifest_asks_only_for_what_the_configuration_uses(tmp_path: Path) -> None:
    default = scopes_for(tmp_path)
    assert "chat:write.public" not in default  # the bot posts where it was invited
    assert "usergroups:read" not in default  # no facilitator user group configured
    assert "files:write" in default
    # `export group` sends its file by DM whether or not digests have charts.
    assert "files:write" in scopes_for(tmp_path, CYCLES_DIGEST__CHARTS="false")
    grouped = scopes_for(tmp_path, CYCLES_SLACK__FACILITATOR_USERGROUP="S0123ABC")
    assert "usergroups:read" in grouped
    assert len(set(grouped)) == len(grouped)


def test_every_scope_it_can_ask_for_is_used_by_the_code(tmp_path: Path) -> None:
    code = "\n".join(
        path.read_text() for path in SLACK_CODE.glob("*.py") if path.name != "manifest.py"
    )
    everything = scopes_for(tmp_path, CYCLES_SLACK__FACILITATOR_USERGROUP="S0123ABC")
    assert set(everything) == set(USED_BY)
    for scope in everything:
        assert USED_BY[scope] in code, scope

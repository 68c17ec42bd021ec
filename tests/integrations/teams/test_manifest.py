from __future__ import annotations

import json

import pytest

from bot.commands import all_specs
from bot.config import Settings, load_settings
from bot.domain.views import CommandInfo
from bot.errors import ConfigError
from integrations.teams.manifest import MAIN_COMMANDS, manifest, render_manifest

COMMANDS = [CommandInfo(s.path, s.usage, s.summary) for s in all_specs()]


def settings(**env: str) -> Settings:
    return load_settings(path=None, env={"CYCLES_CONFIG": "none", **env})


def test_the_manifest_names_the_bot_its_scopes_and_the_main_commands() -> None:
    ready = settings(TEAMS_APP_ID="app-1", CYCLES_TEAMS__WEBSITE_URL="https://cycles.example.org")
    data = json.loads(render_manifest(ready, COMMANDS))
    assert data == manifest(ready, COMMANDS)
    assert data["id"] == "app-1"
    [bot] = data["bots"]
    assert bot["botId"] == "app-1"
    assert bot["scopes"] == ["personal", "team"]
    listed = bot["commandLists"][0]["commands"]
    assert [c["title"] for c in listed] == list(MAIN_COMMANDS)
    assert all(len(c["title"]) <= 32 and 0 < len(c["description"]) <= 128 for c in listed)
    assert data["icons"] == {"color": "color.png", "outline": "outline.png"}
    assert data["developer"]["privacyUrl"].startswith("https://")


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CYCLES_TEAMS__WEBSITE_URL": "https://cycles.example.org"}, "TEAMS_APP_ID"),
        ({"TEAMS_APP_ID": "app-1"}, "website_url"),
        ({"TEAMS_APP_ID": "app-1", "CYCLES_TEAMS__WEBSITE_URL": "http://x.org"}, "website_url"),
    ],
)
def test_a_manifest_without_what_teams_requires_says_which_and_how(
    env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError, match=named):
        manifest(settings(**env), COMMANDS)

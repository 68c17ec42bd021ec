from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_shipped_bot_toml_is_the_defaults() -> None:
    # bot.toml documents every key with its default: loading it changes nothing.
    assert load_settings(ROOT / "bot.toml", {}).model_dump() == Settings().model_dump()


def test_environment_overrides_and_secrets(tmp_path: Path) -> None:
    env = {
        "CYCLES_DATABASE_URL": "postgresql+psycopg://u@h/db",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "CYCLES_DIGEST__MAX_THEMES": "7",
        "CYCLES_BOT__FACILITATORS": "slack:U1, discord:2",
    }
    s = load_settings(None, env)
    assert s.bot.resolved_database_url() == "postgresql+psycopg://u@h/db"
    assert s.slack.enabled and s.slack.bot_token.get_secret_value() == "xoxb-1"
    assert "xoxb-1" not in repr(s)
    assert s.digest.max_themes == 7
    assert s.bot.facilitators == ["slack:U1", "discord:2"]


@pytest.mark.parametrize(
    ("toml", "env", "expected"),
    [
        ("[bot]\ntimezone = 'Mars/Base'\n", {}, "bot.timezone = 'Mars/Base' is invalid"),
        ("", {"CYCLES_DIGEST__SUMMARISER": "gpt"}, "digest.summariser = 'gpt' is invalid"),
        ("[digest]\nschedule = 'fridays'\n", {}, "Fix: use a five-field cron"),
        ("[bot]\ncolour = 'red'\n", {}, "unknown key 'bot.colour'"),
        ("[slack]\nbot_token = 'xoxb-2'\n", {}, "is a secret"),
        ("[bot\n", {}, "not valid TOML"),
    ],
)
def test_bad_values_fail_with_one_line(
    tmp_path: Path, toml: str, env: dict[str, str], expected: str
) -> None:
    path = tmp_path / "bot.toml"
    path.write_text(toml)
    with pytest.raises(ConfigError) as info:
        load_settings(path, env)
    message = str(info.value)
    assert expected in message
    assert "\n" not in message
    assert "xoxb-2" not in message

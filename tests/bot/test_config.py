from __future__ import annotations

import socket
from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def test_sharing_ports_where_the_system_cannot_is_refused_in_one_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(socket, "SO_REUSEPORT")
    env = {"CYCLES_DATABASE_URL": "postgresql+asyncpg://u@h/db", "CYCLES_BOT__SHARE_PORTS": "1"}
    with pytest.raises(ConfigError) as info:
        load_settings(None, env)
    assert str(info.value) == (
        "config: bot.share_ports = '1' is invalid: this system cannot share a port between "
        "processes (Linux can). Fix: keep the state in PostgreSQL (bot.database_url) on Linux, "
        "or leave it off."
    )


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
        ("", {"CYCLES_DIGEST__SCHEDULE": "61 * * * *"}, "'61': the last value (61) is higher"),
        ("", {"CYCLES_DIGEST__SCHEDULE": "0 9 31 2 *"}, "is invalid: it never fires"),
        ("", {"CYCLES_DIGEST__SCHEDULE": "* * * * *"}, "it fires every minute; a schedule"),
        ("", {"CYCLES_DIGEST__SCHEDULE": "0 " * 6000}, "is invalid: longer than 100 characters"),
        ("", {"CYCLES_SCHEDULER__ALARMS_SCHEDULE": "*/5 8 * * *"}, "fires 5 minutes apart"),
        ("[bot]\ncolour = 'red'\n", {}, "unknown key 'bot.colour'"),
        ("[slack]\nbot_token = 'xoxb-2'\n", {}, "is a secret"),
        ("[bot\n", {}, "not valid TOML"),
        ("", {"CYCLES_DATABASE_URL": "mysql://h/db"}, "or postgresql+asyncpg://user@host/db"),
        ("[bot]\nshare_ports = true\n", {}, "share_ports = True is invalid: processes sharing"),
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
    assert len(message) < 300
    assert "xoxb-2" not in message


def test_hourly_and_weekly_schedules_are_accepted() -> None:
    env = {
        "CYCLES_DIGEST__SCHEDULE": "0 * * * *",
        "CYCLES_SCHEDULER__ALARMS_SCHEDULE": "5 8 * * 1-5",
    }
    settings = load_settings(None, env)
    assert settings.digest.schedule == "0 * * * *"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("[bot]\ntimezone = 'Zürich'\n".encode("latin-1"), "is not UTF-8 text (byte 0xfc at"),
        (None, "cannot read"),
    ],
)
def test_unreadable_config_fails_with_one_line(
    tmp_path: Path, content: bytes | None, expected: str
) -> None:
    path = tmp_path / "bot.toml"
    if content is None:
        path.mkdir()  # a folder where the file should be
    else:
        path.write_bytes(content)
    with pytest.raises(ConfigError) as info:
        load_settings(path, {})
    assert expected in str(info.value)
    assert str(info.value).endswith(".") and "\n" not in str(info.value)


@pytest.mark.parametrize("named", ["missing.toml", "folder"])
def test_a_cycles_config_that_is_not_a_file_fails_with_one_line(tmp_path: Path, named: str) -> None:
    (tmp_path / "folder").mkdir()
    with pytest.raises(ConfigError) as info:
        load_settings(None, {"CYCLES_CONFIG": str(tmp_path / named)})
    message = str(info.value)
    assert "CYCLES_CONFIG" in message and named in message and "\n" not in message


def test_an_empty_cycles_config_means_bot_toml_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.toml").write_text('[bot]\ntimezone = "Europe/Oslo"\n')
    assert load_settings(None, {"CYCLES_CONFIG": ""}).bot.timezone == "Europe/Oslo"
    assert load_settings(None, {"CYCLES_CONFIG": "  "}).bot.timezone == "Europe/Oslo"


def test_cycles_config_none_means_defaults_and_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "bot.toml").write_text('[bot]\ntimezone = "Europe/Oslo"\n')
    env = {"CYCLES_CONFIG": "none", "CYCLES_BOT__TIMEZONE": "Asia/Tokyo"}
    assert load_settings(None, env).bot.timezone == "Asia/Tokyo"
    assert load_settings(None, {"CYCLES_CONFIG": "none"}).bot.timezone == "UTC"

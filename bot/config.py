"""bot.toml + environment -> validated, typed settings.

Secrets come only from the environment. Any value may be overridden from the environment, either
through its documented name (CYCLES_DATABASE_URL, SLACK_API_URL, ...) or generically as
CYCLES_<SECTION>__<KEY>. A wrong value fails at start with one line naming the key and the fix.
"""

from __future__ import annotations

import os
import socket
import tomllib
import zoneinfo
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from bot.domain import cron
from bot.errors import ConfigError

# Round templates and model prompts ship inside the package, so an installed wheel has them.
BUNDLED_PROMPTS = Path(__file__).resolve().parent / "prompts"

# Documented environment names -> (section, key). Secrets live only here.
ENV_KEYS: dict[str, tuple[str, str]] = {
    "CYCLES_DATABASE_URL": ("bot", "database_url"),
    "CYCLES_DATA_DIR": ("bot", "data_dir"),
    "SLACK_BOT_TOKEN": ("slack", "bot_token"),
    "SLACK_APP_TOKEN": ("slack", "app_token"),
    "SLACK_SIGNING_SECRET": ("slack", "signing_secret"),
    "SLACK_API_URL": ("slack", "api_url"),
    "DISCORD_TOKEN": ("discord", "token"),
    "DISCORD_API_URL": ("discord", "api_url"),
    "DISCORD_GATEWAY_URL": ("discord", "gateway_url"),
    "TEAMS_APP_ID": ("teams", "app_id"),
    "TEAMS_APP_PASSWORD": ("teams", "app_password"),
    "TEAMS_TENANT_ID": ("teams", "tenant_id"),
    "OPENAI_API_KEY": ("llm", "api_key"),
    "OPENAI_BASE_URL": ("llm", "base_url"),
}
SECRET_KEYS = {"bot_token", "app_token", "signing_secret", "token", "api_key", "app_password"}

# The databases the bot runs on. psycopg is the slower of the PostgreSQL drivers (README,
# Performance), kept for configurations written before asyncpg.
DRIVERS = ("sqlite+aiosqlite://", "postgresql+asyncpg://", "postgresql+psycopg://")

# What to tell the user for a bad value, by key.
FIXES: dict[str, str] = {
    "timezone": "use an IANA name such as Europe/London",
    "database_url": "use sqlite+aiosqlite:///path.db or postgresql+asyncpg://user@host/db",
    "share_ports": "keep the state in PostgreSQL (bot.database_url) on Linux, or leave it off",
    "summariser": "use 'offline' or 'llm'",
    "schedule": "use a five-field cron expression such as '0 16 * * fri'",
    "alarms_schedule": "use a five-field cron expression such as '0 8 * * *'",
}


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _check_timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError("unknown timezone") from exc
    return value


def _check_cron(value: str) -> str:
    # The scheduler's own parser, so a schedule accepted here is one that runs. The timezone
    # only shifts when it fires, not whether it is valid.
    cron.check(value, "UTC", datetime.now(UTC))
    return value


class BotSettings(Section):
    data_dir: Path = Path("data")
    database_url: str = ""
    timezone: str = "UTC"
    prompts_dir: Path = BUNDLED_PROMPTS
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    facilitators: list[str] = Field(default_factory=list)
    leaders: list[str] = Field(default_factory=list)
    # Several `cycles run` on one machine listen on the same ports (Linux's SO_REUSEPORT), and
    # the kernel spreads connections among them. PostgreSQL only: they are replicas.
    share_ports: bool = False

    _tz = field_validator("timezone")(_check_timezone)

    @field_validator("share_ports")
    @classmethod
    def _replicas_need_a_server(cls, value: bool, info: ValidationInfo) -> bool:
        if value and not str(info.data.get("database_url", "")).startswith("postgresql"):
            raise ValueError("processes sharing ports are replicas, and need PostgreSQL")
        if value and not hasattr(socket, "SO_REUSEPORT"):
            raise ValueError("this system cannot share a port between processes (Linux can)")
        return value

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(DRIVERS):
            raise ValueError("unsupported driver")
        return value

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'cycles.sqlite3').resolve()}"


class RoundSettings(Section):
    default_template: str = "weekly-reflection"
    max_duration_days: int = Field(default=30, ge=1, le=365)
    remind_before_hours: int = Field(default=12, ge=0, le=168)


class DigestSettings(Section):
    schedule: str = "0 16 * * fri"
    summariser: Literal["offline", "llm"] = "offline"
    max_themes: int = Field(default=5, ge=1, le=20)
    max_quotes_per_theme: int = Field(default=3, ge=1, le=3)
    charts: bool = True

    _cron = field_validator("schedule")(_check_cron)


class LLMSettings(Section):
    base_url: str = ""
    api_key: SecretStr = SecretStr("")
    model: str = "gpt-4o-mini"
    # Set to cluster the digest's themes on the server's /v1/embeddings (e.g.
    # "text-embedding-3-small", or "nomic-embed-text" on Ollama); empty: the chat model alone.
    embeddings_model: str = ""
    timeout_seconds: float = Field(default=30.0, gt=0, le=600)
    max_retries: int = Field(default=2, ge=0, le=10)
    max_input_tokens: int = Field(default=6000, ge=500)
    max_output_tokens: int = Field(default=1200, ge=100)


class AlarmSettings(Section):
    stale_checkin_days: int = Field(default=10, ge=1)
    running_weeks: int = Field(default=8, ge=1)
    min_participation: float = Field(default=0.5, ge=0, le=1)
    surprise_threshold: int = Field(default=70, ge=0, le=100)
    surprise_weeks: int = Field(default=3, ge=1)
    dominant_share: float = Field(default=0.6, gt=0, le=1)
    dominant_min_checkins: int = Field(default=5, ge=1)


class SlackSettings(Section):
    bot_token: SecretStr = SecretStr("")
    app_token: SecretStr = SecretStr("")
    signing_secret: SecretStr = SecretStr("")
    api_url: str = ""
    facilitator_usergroup: str = ""
    # auto: Socket Mode when an app token is set, else HTTP mode on http_host:http_port.
    mode: Literal["auto", "socket", "http"] = "auto"
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=3000, ge=0, le=65535)  # 0: any free port
    # The public https:// address in front of HTTP mode, for the manifest's request URLs.
    public_url: str = ""
    send_rate_per_second: float = Field(default=1.0, gt=0)
    send_burst: int = Field(default=5, ge=1)

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token.get_secret_value())


class DiscordSettings(Section):
    token: SecretStr = SecretStr("")
    api_url: str = ""
    gateway_url: str = ""
    guild_ids: list[int] = Field(default_factory=list)
    facilitator_roles: list[str] = Field(default_factory=list)
    leader_roles: list[str] = Field(default_factory=list)
    shard_count: int | None = Field(default=None, ge=1)
    shard_ids: list[int] | None = None
    send_rate_per_second: float = Field(default=40.0, gt=0)
    # Opening a DM channel is the call Discord watches most closely for spam: go gently.
    dm_open_rate_per_second: float = Field(default=5.0, gt=0)
    # The privileged Server Members intent: needed to fan a round out to a whole channel.
    members_intent: bool = True
    # Seconds to wait for guilds after READY before the bot counts as started.
    guild_ready_timeout: float = Field(default=2.0, ge=0, le=60)

    @property
    def enabled(self) -> bool:
        return bool(self.token.get_secret_value())


class TeamsSettings(Section):
    # The Azure Bot's Microsoft App ID and its client secret, and the tenant of a single-tenant
    # registration (empty: multi-tenant).
    app_id: str = ""
    app_password: SecretStr = SecretStr("")
    tenant_id: str = ""
    # Local use without Azure (the Bot Framework Emulator, tests): no credentials, no token
    # checks on /api/messages. Never the default; the bot logs a warning while it is on.
    allow_anonymous: bool = False
    # Where /api/messages (and /healthz) listen; `cycles run --port` sets the port.
    http_host: str = "0.0.0.0"
    http_port: int = Field(default=3978, ge=0, le=65535)  # 0: any free port
    # Sends through the outbox, paced under Teams' limit of about 30 requests a second per app
    # per tenant (each DM is its own conversation, so the per-thread limit does not bind).
    send_rate_per_second: float = Field(default=15.0, gt=0)
    send_burst: int = Field(default=15, ge=1)
    # Members per roster page (Teams allows up to 500).
    roster_page_size: int = Field(default=200, ge=1, le=500)
    # For `cycles teams-manifest`: who publishes the app, and its https:// pages (privacy and
    # terms default to the website).
    developer_name: str = "Learning Cycles"
    website_url: str = ""
    privacy_url: str = ""
    terms_url: str = ""

    @property
    def enabled(self) -> bool:
        return bool(self.app_id) or self.allow_anonymous


class SchedulerSettings(Section):
    # false: this replica never runs the scheduler (it still serves commands and sends).
    enabled: bool = True
    # The PostgreSQL advisory lock that elects the one replica running the scheduler.
    # 0 derives it from the database and schema names, so two deployments never share one.
    lock_id: int = 0
    # How often a standby replica tries to take the scheduler over (and the holder checks it
    # still has the lock).
    takeover_seconds: float = Field(default=5.0, gt=0, le=300)
    # How often rounds past their closing time are closed and reminders are queued.
    tick_seconds: float = Field(default=60.0, gt=0, le=3600)
    # How often changed digest and round schedules are picked up.
    resync_seconds: float = Field(default=30.0, gt=0, le=3600)
    # A scheduled job missed by at most this much (a restart, a takeover) still runs once.
    misfire_grace_seconds: int = Field(default=3600, ge=1)
    # The daily alarm evaluation, as five-field cron in bot.timezone.
    alarms_schedule: str = "0 8 * * *"

    _cron = field_validator("alarms_schedule")(_check_cron)


class OutboxSettings(Section):
    # Every replica drains the outbox when a use case queues something, and at least this often.
    poll_seconds: float = Field(default=5.0, gt=0, le=300)
    # A claimed delivery is leased for this long; if its sender dies, another replica takes it
    # over after the lease. No send starts in the last third of a lease.
    lease_seconds: float = Field(default=60.0, ge=1, le=3600)


class OpsSettings(Section):
    # /healthz and Prometheus /metrics, served by `cycles run` on their own port.
    enabled: bool = True
    host: str = "0.0.0.0"
    port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port


class Settings(Section):
    bot: BotSettings = BotSettings()
    rounds: RoundSettings = RoundSettings()
    digest: DigestSettings = DigestSettings()
    llm: LLMSettings = LLMSettings()
    alarms: AlarmSettings = AlarmSettings()
    slack: SlackSettings = SlackSettings()
    discord: DiscordSettings = DiscordSettings()
    teams: TeamsSettings = TeamsSettings()
    scheduler: SchedulerSettings = SchedulerSettings()
    outbox: OutboxSettings = OutboxSettings()
    ops: OpsSettings = OpsSettings()


def _env_overrides(env: Mapping[str, str]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {}
    for name, (section, key) in ENV_KEYS.items():
        if env.get(name):
            out.setdefault(section, {})[key] = env[name]
    for name, value in env.items():
        if name.startswith("CYCLES_") and "__" in name:
            section, _, key = name.removeprefix("CYCLES_").lower().partition("__")
            out.setdefault(section, {})[key] = value
    return out


def _coerce_env(section_model: type[Section], key: str, value: str) -> Any:
    """Environment values are strings; lists are comma-separated."""
    field = section_model.model_fields.get(key)
    if field is not None and "list" in str(field.annotation):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _one_line(exc: ValidationError, data: Mapping[str, Any]) -> str:
    err = exc.errors()[0]
    loc = [str(part) for part in err["loc"]]
    key = ".".join(loc)
    value: Any = data
    for part in loc:
        value = value.get(part) if isinstance(value, Mapping) else None
    if err["type"] == "extra_forbidden":
        return f"config: unknown key '{key}'. Fix: remove it or check the spelling in bot.toml."
    reason = err["msg"].removeprefix("Value error, ")
    shown = "<secret>" if loc[-1] in SECRET_KEYS else _shorten(repr(value))
    fix = FIXES.get(loc[-1])
    return f"config: {key} = {shown} is invalid: {reason[:1].lower()}{reason[1:]}." + (
        f" Fix: {fix}." if fix else ""
    )


def _shorten(text: str, limit: int = 60) -> str:
    # An error stays one readable line even for a value pasted by mistake.
    return text if len(text) <= limit else f"{text[: limit - 4]}...{text[-1]}"


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read bot.toml (if any) and the environment; a bad value raises ConfigError (one line)."""
    env = os.environ if env is None else env
    if path is None:
        # A CYCLES_CONFIG someone set must exist (a typo must not drop every setting silently);
        # empty means the default, bot.toml here; `none` means defaults and environment only.
        named = env.get("CYCLES_CONFIG", "").strip()
        if named.lower() == "none":
            path = None
        elif named:
            path = Path(named)
            if not path.is_file():
                raise ConfigError(
                    f"config: CYCLES_CONFIG names {named[:200]!r}, which is not a file. "
                    "Fix: point it at your bot.toml, unset it, or set it to none."
                )
        else:
            candidate = Path("bot.toml")
            path = candidate if candidate.is_file() else None
    data: dict[str, Any] = _read_toml(path) if path is not None else {}
    in_file = {section: set(values) for section, values in data.items() if isinstance(values, dict)}
    for section, values in _env_overrides(env).items():
        model = Settings.model_fields.get(section)
        if model is None or not isinstance(data.setdefault(section, {}), dict):
            raise ConfigError(f"config: unknown section '{section}' in the environment.")
        section_type = model.annotation
        assert isinstance(section_type, type) and issubclass(section_type, Section)
        for key, value in values.items():
            data[section][key] = _coerce_env(section_type, key, value)
    for section, values in data.items():
        for key in values if isinstance(values, dict) else ():
            if key in SECRET_KEYS and key in in_file.get(section, ()):
                raise ConfigError(
                    f"config: {section}.{key} is a secret. Fix: set it in the environment, "
                    "not in bot.toml."
                )
    try:
        return Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc, data)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    """bot.toml as data, or ConfigError naming the file, what is wrong with it and the fix."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"config: {path} not found. Fix: pass an existing file.") from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(
            f"config: cannot read {path} ({reason}). Fix: pass a readable file."
        ) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"config: {path} is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset "
            f"{exc.start}). Fix: save it as UTF-8."
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config: {path} is not valid TOML ({exc}).") from None

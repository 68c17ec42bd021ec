"""Reflection round templates: prompts/rounds/*.toml, validated at start."""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from bot.domain.durations import parse_duration
from bot.errors import ConfigError


class PromptSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    text: str = Field(min_length=3, max_length=500)


class RoundTemplateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$")
    title: str = Field(min_length=1, max_length=200)
    intro: str = Field(max_length=2000)
    default_duration: str = "3d"
    ask_surprise: bool = True
    prompts: tuple[PromptSpec, ...] = Field(min_length=1, max_length=5)

    @field_validator("prompts")
    @classmethod
    def _unique_keys(cls, prompts: tuple[PromptSpec, ...]) -> tuple[PromptSpec, ...]:
        keys = [p.key for p in prompts]
        if len(keys) != len(set(keys)):
            raise ValueError("prompt keys must be unique")
        return prompts

    @field_validator("default_duration")
    @classmethod
    def _duration(cls, value: str) -> str:
        parse_duration(value)
        return value


def load_templates(directory: Path) -> dict[str, RoundTemplateSpec]:
    """Every template in `directory`; a broken one fails with its file and the problem."""
    templates: dict[str, RoundTemplateSpec] = {}
    files = sorted(directory.glob("*.toml"))
    if not files:
        raise ConfigError(
            f"templates: no round templates in {directory}. Fix: set bot.prompts_dir."
        )
    for path in files:
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
            data.setdefault("key", path.stem)
            spec = RoundTemplateSpec.model_validate(data)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"templates: {path}: not valid TOML ({exc}).") from None
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigError(f"templates: {path}: {where}: {err['msg']}.") from None
        except Exception as exc:  # a bad duration surfaces as UserError from parse_duration
            raise ConfigError(f"templates: {path}: {exc}") from None
        if spec.key != path.stem:
            raise ConfigError(f"templates: {path}: key '{spec.key}' must match the file name.")
        templates[spec.key] = spec
    return templates

"""Reflection round templates: the shipped ones (prompts/rounds/*.toml, validated at start) and
each group's own, written in chat and kept in the database. A group's own template overrides a
shipped one with the same key for that group only; a round copies its template when it starts,
so changing or removing a template never changes a round already open."""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.domain.durations import parse_duration
from bot.errors import ConfigError
from bot.store.models import GroupTemplate
from bot.store.upsert import upsert

QuestionKind = Literal["text", "choice", "dyad"]
AnswersVisibleTo = Literal["group", "facilitators", "private"]
QUESTION_KINDS: tuple[str, ...] = ("text", "choice", "dyad")
MAX_OPTIONS = 10
# Slack cuts a select option's text at 75 characters; Discord at 100.
OPTION_LENGTH = 75
POLE_LENGTH = 60


class PromptSpec(BaseModel):
    """One question: free text, a choice among `options`, or a 0-100 dyad from `low` to
    `high`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,31}$")
    text: str = Field(min_length=3, max_length=500)
    kind: QuestionKind = "text"
    options: tuple[str, ...] = ()
    low: str = Field(default="", max_length=POLE_LENGTH)
    high: str = Field(default="", max_length=POLE_LENGTH)

    @model_validator(mode="after")
    def _shape(self) -> PromptSpec:
        if self.kind == "choice":
            if not 2 <= len(self.options) <= MAX_OPTIONS:
                raise ValueError(f"a choice needs 2 to {MAX_OPTIONS} options")
            if any(not o.strip() or len(o) > OPTION_LENGTH for o in self.options):
                raise ValueError(f"each option needs 1 to {OPTION_LENGTH} characters")
            if len({o.lower() for o in self.options}) != len(self.options):
                raise ValueError("options must differ")
        elif self.options:
            raise ValueError("only a choice has options")
        if self.kind == "dyad":
            if not self.low.strip() or not self.high.strip():
                raise ValueError("a dyad needs its two poles, low and high")
        elif self.low or self.high:
            raise ValueError("only a dyad has poles")
        return self

    def snapshot(self) -> dict[str, object]:
        """What a round keeps of this question (Round.prompts)."""
        out: dict[str, object] = {"key": self.key, "text": self.text}
        if self.kind != "text":
            out["kind"] = self.kind
        if self.options:
            out["options"] = list(self.options)
        if self.kind == "dyad":
            out |= {"low": self.low, "high": self.high}
        return out


class RoundTemplateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    key: str = Field(pattern=r"^[a-z][a-z0-9-]{0,63}$")
    title: str = Field(min_length=1, max_length=200)
    intro: str = Field(max_length=2000)
    default_duration: str = "3d"
    ask_surprise: bool = True
    default_visibility: AnswersVisibleTo = "group"
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


# --- a group's own templates --------------------------------------------------------------


async def own_templates(session: AsyncSession, group_id: int) -> dict[str, RoundTemplateSpec]:
    """The templates a group's facilitators wrote, by key. A stored one that no longer reads
    (it cannot happen through the commands) is left out rather than break every listing."""
    rows = await session.execute(
        select(GroupTemplate.spec).where(GroupTemplate.group_id == group_id)
    )
    out: dict[str, RoundTemplateSpec] = {}
    for (spec,) in rows.all():
        try:
            found = RoundTemplateSpec.model_validate(spec)
        except ValidationError:
            continue
        out[found.key] = found
    return out


async def templates_for(
    session: AsyncSession, group_id: int | None, shipped: Mapping[str, RoundTemplateSpec]
) -> dict[str, RoundTemplateSpec]:
    """What a group can start: the shipped templates, with its own added or put in their
    place."""
    merged = dict(shipped)
    if group_id is not None:
        merged |= await own_templates(session, group_id)
    return merged


async def save_template(
    session: AsyncSession,
    group_id: int,
    spec: RoundTemplateSpec,
    *,
    member_id: int,
    now: datetime,
) -> None:
    """Create or replace the group's template with `spec.key` (one row whatever the races)."""
    await upsert(
        session,
        GroupTemplate,
        {
            "group_id": group_id,
            "key": spec.key,
            "spec": spec.model_dump(mode="json"),
            "updated_by": member_id,
            "updated_at": now,
        },
        ["group_id", "key"],
        ("spec", "updated_by", "updated_at"),
    )


async def remove_template(session: AsyncSession, group_id: int, key: str) -> bool:
    """Remove the group's own template; False when it had none with that key."""
    result = await session.execute(
        delete(GroupTemplate)
        .where(GroupTemplate.group_id == group_id, GroupTemplate.key == key)
        .returning(GroupTemplate.id)
    )
    return result.first() is not None

"""The model's prompt templates: Jinja2 with StrictUndefined, each rendered once at start with
sample values, so an unknown variable fails when the bot starts, not at digest time."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2

from bot.errors import ConfigError

TEMPLATES = ("system.j2", "map.j2", "reduce.j2", "label.j2")


def load_templates(directory: Path) -> dict[str, jinja2.Template]:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # plain-text prompts, not HTML
        keep_trailing_newline=True,
    )
    templates: dict[str, jinja2.Template] = {}
    for name in TEMPLATES:
        try:
            templates[name] = env.get_template(name)
        except jinja2.TemplateNotFound:
            raise ConfigError(
                f"prompts: {directory / name} is missing. Fix: restore it or set bot.prompts_dir."
            ) from None
        except jinja2.TemplateSyntaxError as exc:
            where = f"{directory / name}: line {exc.lineno}"
            raise ConfigError(f"prompts: {where}: {exc.message}.") from None
    sample: dict[str, Any] = {
        "max_themes": 3,
        "max_quotes": 2,
        "data": "[]",
        "tag": "0" * 16,
        "count": 0,
        "part": 1,
        "parts": 2,
    }
    for name, template in templates.items():
        try:
            template.render(**sample)  # an unknown variable fails at start, not at digest time
        except jinja2.UndefinedError as exc:
            raise ConfigError(f"prompts: {directory / name}: {exc.message}.") from None
    return templates

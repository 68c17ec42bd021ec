"""Imports go downwards only: the domain sees nothing above it, and services never reach up into
the command layer or the composition root (not even inside a function, where a cycle would hide)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def imports_of(package: str) -> list[tuple[str, str]]:
    """(file, module) for every absolute import in a package, at the top or inside a function."""
    found = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [node.module]
            else:
                continue
            found.extend((str(path.relative_to(ROOT)), name) for name in names)
    return found


def test_the_domain_imports_only_itself_and_the_errors() -> None:
    upward = [
        (path, name)
        for path, name in imports_of("bot/domain")
        if name.startswith("bot.") and not name.startswith(("bot.domain", "bot.errors"))
    ]
    assert upward == []


def test_services_never_import_commands_or_what_sits_above_them() -> None:
    above = ("bot.commands", "bot.app", "bot.cli", "bot.scheduler", "integrations")
    upward = [(path, name) for path, name in imports_of("bot/services") if name.startswith(above)]
    assert upward == []

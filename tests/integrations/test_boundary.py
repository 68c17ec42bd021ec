"""Adapters see the port and the domain only: no module in integrations/ imports storage or the
services, directly or through what it imports."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INTEGRATIONS = ROOT / "integrations"
FORBIDDEN = ("sqlalchemy", "bot.store", "bot.services")
# `cycles demo` builds the whole application around the console: a composition root, like
# bot/cli.py, so it may import bot.app (and, through it, everything else).
COMPOSITION_ROOTS = {"integrations.console.demo"}


def module_names() -> list[str]:
    return sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in INTEGRATIONS.rglob("*.py")
    )


def imported(path: Path) -> set[str]:
    """Every module named by an import anywhere in the file, function bodies included."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


def forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def test_no_integration_module_names_storage_or_services() -> None:
    found = {
        str(path.relative_to(ROOT)): sorted(n for n in imported(path) if forbidden(n))
        for path in INTEGRATIONS.rglob("*.py")
    }
    assert {path: names for path, names in found.items() if names} == {}
    app_users = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in INTEGRATIONS.rglob("*.py")
        if any(n == "bot.app" or n.startswith("bot.app.") for n in imported(path))
    }
    assert app_users <= COMPOSITION_ROOTS


def test_importing_every_adapter_module_loads_no_storage() -> None:
    modules = [m for m in module_names() if m not in COMPOSITION_ROOTS]
    script = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout)
    assert len(modules) > 20 and "integrations.slack.adapter" in loaded
    assert [name for name in loaded if forbidden(name)] == []

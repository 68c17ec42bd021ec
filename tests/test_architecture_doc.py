"""docs/architecture.md names files and registries; each must exist, so the page cannot drift
from the code unnoticed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "architecture.md").read_text()


def test_every_path_it_names_exists() -> None:
    paths = set(re.findall(r"`((?:bot|integrations|tests)/[^`<>\s]*)`", DOC))
    assert len(paths) > 20
    missing = sorted(p for p in paths if not (ROOT / p.rstrip("/")).exists())
    assert missing == []


def test_every_registry_it_names_is_where_it_says() -> None:
    named = {
        "PLATFORMS": "bot/app.py",
        "SECTIONS": "bot/services/digests/sections/__init__.py",
        "RULES": "bot/services/alarms/rules/__init__.py",
        "AlarmSettings": "bot/config.py",
    }
    for name, path in named.items():
        assert name in DOC
        assert re.search(rf"^(class )?{name}\b", (ROOT / path).read_text(), re.M), (name, path)


def test_the_readme_links_it() -> None:
    assert "docs/architecture.md" in (ROOT / "README.md").read_text()

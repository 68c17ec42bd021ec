"""Export files: where a member's or a group's export is written, and how long it stays. An
export holds private entries, so it lives only long enough to be sent and fetched."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.files import write_atomic

_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
STAMP = "%Y%m%dT%H%M%SZ"
_STAMPED = re.compile(r"-(\d{8}T\d{6}Z)\.(?:json|csv)$")
_OWN_FILE = re.compile(r"\d{8}T\d{6}Z\.(?:json|csv|tmp)")
# An export holds private entries: it lives only long enough to be sent and fetched. The
# scheduler looks every EXPORT_SWEEP, so no file is older than an hour when it goes.
EXPORT_LIFETIME = timedelta(minutes=50)
EXPORT_SWEEP = timedelta(minutes=10)


def _prefix(platform: str, user_id: str) -> str:
    user = _UNSAFE.sub("_", user_id)[:64] or "user"
    return f"{_UNSAFE.sub('_', platform)}-{user}-"


def export_path(data_dir: Path, platform: str, user_id: str, now: datetime) -> Path:
    """data_dir/exports/<platform>-<user>-<timestamp>.json, safe as a file name on any system."""
    return data_dir / "exports" / f"{_prefix(platform, user_id)}{now.strftime(STAMP)}.json"


def _remove(paths: list[Path]) -> int:
    gone = 0
    for path in paths:
        try:
            path.unlink()
            gone += 1
        except FileNotFoundError:
            pass
    return gone


def _exports_of(data_dir: Path, platform: str, user_id: str) -> list[Path]:
    folder, prefix = data_dir / "exports", _prefix(platform, user_id)
    if not folder.is_dir():
        return []
    return [
        p
        for p in folder.iterdir()
        if p.name.startswith(prefix) and _OWN_FILE.fullmatch(p.name[len(prefix) :])
    ]


async def delete_exports(data_dir: Path, platform: str, user_id: str) -> int:
    """Delete every export file of one member; returns how many there were."""
    return await asyncio.to_thread(lambda: _remove(_exports_of(data_dir, platform, user_id)))


def _expired(data_dir: Path, now: datetime) -> list[Path]:
    folder = data_dir / "exports"
    if not folder.is_dir():
        return []
    out = []
    for path in folder.iterdir():
        match = _STAMPED.search(path.name)
        if match:
            made = datetime.strptime(match.group(1), STAMP).replace(tzinfo=UTC)
        else:  # a half-written file left by a crash: its modification time tells its age
            made = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        if now - made >= EXPORT_LIFETIME:
            out.append(path)
    return out


async def expire_exports(data_dir: Path, now: datetime) -> int:
    """Delete export files older than EXPORT_LIFETIME (at start and on a timer, and before each
    new export); returns how many went."""
    return await asyncio.to_thread(lambda: _remove(_expired(data_dir, now)))


def _write(path: Path, data: dict[str, Any]) -> None:
    text = json.dumps(data, indent=2, ensure_ascii=False).encode("utf-8")
    # Private entries are in here: readable by the bot's user only.
    write_atomic(path, text, what="the export", mode=0o600)


async def write_export(path: Path, data: dict[str, Any]) -> Path:
    await asyncio.to_thread(_write, path, data)
    return path

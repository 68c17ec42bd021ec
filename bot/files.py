"""Every file the bot writes is written whole or not at all: into a temporary file beside it,
flushed to disk, then renamed over the name. A full disk leaves no empty or partial file behind
and is reported as such."""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from bot.errors import DiskFull

# No room for the file: the disk, the user's quota, or the process's file-size limit.
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}


def write_atomic(path: Path, data: bytes, *, what: str, mode: int = 0o644) -> Path:
    """Write `data` to `path` (parents created); `what` names the file in a DiskFull error."""
    tmp: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except OSError as exc:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if exc.errno in _NO_SPACE:
            raise DiskFull(what) from exc
        raise
    return path

"""A failure the person cannot fix: one log line with a short reference they can quote, the
exception's type and its frames, never its message (that could quote what someone wrote)."""

from __future__ import annotations

import logging
import secrets
import traceback


def reference() -> str:
    """Eight hex digits: enough to find one log line, short enough to read out."""
    return secrets.token_hex(4)


def log_failure(log: logging.Logger, what: str, exc: BaseException) -> str:
    """Logs `what` failed with a new reference, the type and the frames; returns the reference."""
    ref = reference()
    frames = "".join(traceback.format_tb(exc.__traceback__))
    log.error("%s failed (ref %s): %s\n%s", what, ref, type(exc).__name__, frames)
    return ref


def retry_after(raw: object) -> float | None:
    """A Retry-After header as seconds to wait (never negative); None when it is absent or not
    a number of seconds (an HTTP date, garbage), so the outbox uses its own backoff."""
    if isinstance(raw, list | tuple):
        raw = raw[0] if raw else None
    if not isinstance(raw, str | int | float) or isinstance(raw, bool):
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    return max(seconds, 0.0) if seconds == seconds else None  # NaN is not a wait

"""A failure the person cannot fix: one log line with a short reference they can quote, the
exception's type and its frames, never its message (that could quote what someone wrote)."""

from __future__ import annotations

import logging
import secrets
import traceback
from collections.abc import Collection, Mapping

from bot.errors import DeliveryError, DeliveryFailed, DeliveryRetry

# Statuses every platform's API uses for "not now": rate limited, or the service (or a proxy in
# front of it) is briefly unavailable. 412 is how Teams says a conversation is busy.
RETRY_STATUSES = frozenset({408, 412, 425, 429})


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


def by_status(
    status: int,
    code: str,
    *,
    after: object = None,
    transient: Collection[str] = (),
    hints: Mapping[str, str] | None = None,
) -> DeliveryError:
    """A platform's refused call as the outbox understands it: try again later (rate limits,
    outages, codes the platform calls transient) or give up, saying why. `code` is the
    platform's error code (never text from a message); `after` is its Retry-After header."""
    if status == 429:
        # No usable Retry-After: the outbox's own backoff decides.
        return DeliveryRetry("rate limited", after=retry_after(after))
    if status >= 500 or status in RETRY_STATUSES or code in transient:
        return DeliveryRetry(f"{code} (HTTP {status})", after=retry_after(after))
    hint = (hints or {}).get(code)
    return DeliveryFailed(f"{code}: {hint}" if hint else f"{code} (HTTP {status})")


def unreachable(exc: BaseException) -> DeliveryRetry:
    """No answer at all (refused, reset, timed out): the platform may be back in a moment."""
    return DeliveryRetry(f"connection: {type(exc).__name__}")

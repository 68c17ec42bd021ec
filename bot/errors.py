"""The typed error hierarchy. A UserError's message is shown to the person, as is."""

from __future__ import annotations


class CyclesError(Exception):
    """Base of every error the bot raises on purpose."""


class ConfigError(CyclesError):
    """Bad configuration or a broken template: the bot refuses to start, with one line."""


class UserError(CyclesError):
    """Bad input or a refusal; the message is short, specific and safe to show."""


class NotFound(UserError):
    pass


class PermissionDenied(UserError):
    pass


class FieldErrors(UserError):
    """One message per form field; adapters show them inline on the field."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {msg}" for name, msg in errors.items()))


class NotSaved(UserError):
    """The database refused a write; the person is told it was not saved."""

    def __init__(self) -> None:
        super().__init__("Not saved: the database is unavailable right now. Please try again.")


class NotStorable(UserError):
    """The database refused a value as invalid: sending it again can never succeed."""

    def __init__(self) -> None:
        super().__init__(
            "Not saved: the database cannot store some of that text. Change it and send it again."
        )


class DiskFull(UserError):
    """A file could not be written because the disk (or the quota) is full; nothing was left
    behind. `what` names the file for the person: "the export", "the digest chart"."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"Could not write {what}: the disk is full. Ask an admin to free space.")


class DeliveryError(CyclesError):
    """Raised by an adapter's send()."""


class DeliveryRetry(DeliveryError):
    """Transient (429, 5xx, connection): try again after `after` seconds."""

    def __init__(self, reason: str, after: float | None = None) -> None:
        self.after = after
        super().__init__(reason)


class DeliveryFailed(DeliveryError):
    """Permanent (user left, DMs closed): record it and tell the facilitator."""

"""A controllable clock: tests move time instead of waiting."""

from bot.clock import ManualClock as Clock

__all__ = ["Clock"]

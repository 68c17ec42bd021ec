"""Every alarm rule, in the order alarms list them. A new rule is a module in this folder with
a `RULE`, and one line here."""

from __future__ import annotations

from bot.services.alarms.rule import Rule
from bot.services.alarms.rules import (
    cycle_without_experiment,
    dominant_voice,
    low_participation,
    no_surprise,
    running_long,
    stale_checkin,
)

RULES: tuple[Rule, ...] = (
    stale_checkin.RULE,
    running_long.RULE,
    low_participation.RULE,
    no_surprise.RULE,
    cycle_without_experiment.RULE,
    dominant_voice.RULE,
)


def title(key: str) -> str:
    """How people read a rule's key; an unknown key (a rule since removed) reads as itself."""
    return next((rule.title for rule in RULES if rule.key == key), key)

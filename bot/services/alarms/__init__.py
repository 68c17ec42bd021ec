"""Governance alarms around learning cycles: rules with thresholds from `[alarms]` in bot.toml,
evaluated daily and on demand. Alarms speak in counts and ids, never in entry text or names.

- `rule.py`: what a rule is; `rules/`: one module per rule and the `RULES` list.
- `evaluate.py`: raising and resolving; `notify.py`: facilitators' DMs.
- `records.py`: listing, acknowledging, resolving; `participation.py`: round answer counts."""

from bot.services.alarms.evaluate import evaluate, evaluate_all, evaluate_group, findings
from bot.services.alarms.participation import round_participation
from bot.services.alarms.records import (
    acknowledge,
    alarms_for_digest,
    describe,
    get_alarm,
    open_alarms,
    resolve,
)
from bot.services.alarms.rule import Finding, Rule
from bot.services.alarms.rules import RULES

__all__ = [
    "RULES",
    "Finding",
    "Rule",
    "acknowledge",
    "alarms_for_digest",
    "describe",
    "evaluate",
    "evaluate_all",
    "evaluate_group",
    "findings",
    "get_alarm",
    "open_alarms",
    "resolve",
    "round_participation",
]

"""Open forms: a core Form being filled in on Discord, one per person and form.

A modal holds at most five text inputs and no sliders, so a form is shown in steps: first the
numbers and choices as selects in an ephemeral message (four per page), then the text in one
modal per five fields. Each open form has its own token in every custom id, so many people can
have forms open at once. Open forms live in memory for a while; after a restart a click on an
old one says so and the command simply runs again."""

from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Literal

from bot.domain import Actor, ChannelRef, Form, FormField
from integrations.discord.render import MODAL_INPUTS, SELECTS_PER_PAGE, in_modal

TTL_SECONDS = 30 * 60
CAPACITY = 10_000

StepKind = Literal["select", "modal"]


@dataclass(frozen=True)
class Step:
    kind: StepKind
    fields: tuple[FormField, ...]


def steps_of(form: Form) -> list[Step]:
    choices = [f for f in form.fields if not in_modal(f)]
    texts = [f for f in form.fields if in_modal(f)]
    steps = [
        Step("select", tuple(choices[i : i + SELECTS_PER_PAGE]))
        for i in range(0, len(choices), SELECTS_PER_PAGE)
    ]
    steps += [
        Step("modal", tuple(texts[i : i + MODAL_INPUTS]))
        for i in range(0, len(texts), MODAL_INPUTS)
    ]
    return steps


@dataclass
class OpenForm:
    token: str
    form: Form
    actor: Actor
    channel: ChannelRef
    values: dict[str, str]
    steps: list[Step]
    expires_at: float
    # Friendlier labels for select values, by field (e.g. experiment ids -> titles).
    labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def step_of(self, name: str) -> int:
        for index, step in enumerate(self.steps):
            if any(f.name == name for f in step.fields):
                return index
        return 0

    def first_missing(self) -> int:
        """The first step with a required field that has no value yet (0 if none)."""
        for index, step in enumerate(self.steps):
            if any(f.required and not self.values.get(f.name, "").strip() for f in step.fields):
                return index
        return 0

    def submitted_fields(self) -> dict[str, str]:
        return dict(self.values)


class FormStore:
    def __init__(self, ttl: float = TTL_SECONDS, capacity: int = CAPACITY) -> None:
        self.ttl = ttl
        self.capacity = capacity
        self._forms: OrderedDict[str, OpenForm] = OrderedDict()

    def open(self, form: Form, actor: Actor, channel: ChannelRef) -> OpenForm:
        self._expire()
        token = secrets.token_hex(6)
        values = {f.name: f.initial for f in form.fields if f.initial is not None}
        values.update(form.values)
        opened = OpenForm(
            token, form, actor, channel, values, steps_of(form), time.monotonic() + self.ttl
        )
        self._forms[token] = opened
        while len(self._forms) > self.capacity:
            self._forms.popitem(last=False)
        return opened

    def get(self, token: str, user_id: str) -> OpenForm | None:
        """The open form, if it exists, has not expired and belongs to `user_id`."""
        self._expire()
        found = self._forms.get(token)
        if found is None or found.actor.user_id != user_id:
            return None
        found.expires_at = time.monotonic() + self.ttl
        self._forms.move_to_end(token)
        return found

    def close(self, token: str) -> None:
        self._forms.pop(token, None)

    def __len__(self) -> int:
        return len(self._forms)

    def _expire(self) -> None:
        # Oldest first: a form's expiry moves it to the end, so the expired ones lead.
        now = time.monotonic()
        while self._forms and next(iter(self._forms.values())).expires_at <= now:
            self._forms.popitem(last=False)

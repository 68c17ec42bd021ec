"""What a digest section is: a key, a title, and how it reads in each variant it appears in.
A render function gets the gathered week and the summary and returns the section's body."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from bot.domain import Button, Section
from bot.services.digests.week import WeekData
from bot.summarise import Summary


@dataclass(frozen=True)
class Body:
    text: str
    source_ids: tuple[str, ...] = ()  # every entry, experiment, round... the text draws on
    buttons: tuple[Button, ...] = ()  # what a reader can do about this section


Render = Callable[[WeekData, Summary], Body]


@dataclass(frozen=True, eq=False)
class DigestSection:
    key: str
    title: str
    render: Mapping[str, Render]  # variant -> its render; the section appears in these only

    @property
    def variants(self) -> tuple[str, ...]:
        return tuple(self.render)

    def section(self, data: WeekData, summary: Summary, variant: str) -> Section:
        body = self.render[variant](data, summary)
        return Section(self.title, body.text, body.source_ids, body.buttons)

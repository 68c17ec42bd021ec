"""The list of drivers every contract scenario runs against, and a started bot per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from tests.integrations.contract.base import Driver
from tests.integrations.contract.console import ConsoleDriver
from tests.integrations.contract.discord import DiscordContractDriver
from tests.integrations.contract.recording import RecordingDriver
from tests.integrations.contract.slack import SlackContractDriver
from tests.integrations.contract.teams import TeamsContractDriver

# A new adapter joins the contract here.
DRIVERS: list[Callable[[], Driver]] = [
    RecordingDriver,
    ConsoleDriver,
    SlackContractDriver,
    DiscordContractDriver,
    TeamsContractDriver,
]


# Ids from the class attribute: no driver (nor its fake) is built just to be named.
@pytest.fixture(params=DRIVERS, ids=lambda make: str(getattr(make, "name", make)))
async def driver(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Driver]:
    made: Driver = request.param()
    await made.start(tmp_path)
    try:
        yield made
    finally:
        await made.stop()

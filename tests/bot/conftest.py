"""The dispatcher with every command, for tests that talk to the bot as people do."""

from __future__ import annotations

import pytest

from bot.commands import Dispatcher, make_dispatcher
from bot.services.context import Deps


@pytest.fixture
def bot(deps: Deps) -> Dispatcher:
    return make_dispatcher(deps)

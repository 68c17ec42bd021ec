"""The Teams fan-out benchmark at tiny size: it runs end to end through the real SDK and counts
no duplicate and no loss (timings are not asserted)."""

from __future__ import annotations

from bench.suite import Scale
from tests.bench.test_smoke import by_measure, run
from tests.conftest import PG_URL


async def test_teams_fanout_has_no_duplicate_and_no_loss() -> None:
    scale = Scale.smoke(PG_URL)
    outcome = await run("teams", scale)
    figures = by_measure(outcome)
    assert figures["Teams duplicates"] == 0
    assert figures["Teams losses"] == 0
    assert outcome.details["pending_after"] == 0
    assert outcome.details["members"] == scale.fanout_members
    assert outcome.details["calls"]["POST activities"] >= scale.fanout_members

"""The port's read models and key-value store, on each database."""

from __future__ import annotations

from bot.domain import Platform
from bot.domain.views import Home
from bot.services import views
from bot.services.keyvalue import StateStore
from bot.store.database import Database
from tests.bot.services.test_experiments import _new, _setup
from tests.support.chat import HERE, THERE, dm

DM = dm("u1")


async def test_lookups_put_the_channels_own_group_first(db: Database) -> None:
    here, there, ada, _ = await _setup(db)
    mine = await _new(db, here, ada, "Cardio")
    theirs = await _new(db, there, ada, "Later one")
    found = await views.lookups(db, "experiment", HERE)
    assert [(f.ident, f.title, f.note) for f in found] == [
        (mine, "Cardio", "running"),
        (theirs, "Later one", "running"),
    ]
    assert [f.ident for f in await views.lookups(db, "experiment", THERE)] == [theirs, mine]
    assert await views.lookups(db, "round", DM) == []


async def test_home_of_someone_never_seen_is_empty(db: Database) -> None:
    assert await views.home_for(db, Platform.SLACK, "T1", "U404") == Home()
    assert await views.sent_message(db, Platform.SLACK, "D1:1.0") is None


async def test_the_store_keeps_replaces_and_claims_once(db: Database) -> None:
    store = StateStore(db)
    assert await store.get("k") is None
    assert await store.add("k", "one")
    assert not await store.add("k", "two")
    assert await store.get("k") == "one"
    await store.put("k", "three")
    await store.put("new", "four")
    assert (await store.get("k"), await store.get("new")) == ("three", "four")
    assert await store.claim(Platform.SLACK, "Ev1")
    assert not await store.claim(Platform.SLACK, "Ev1")
    assert await store.claim(Platform.DISCORD, "Ev1")

from __future__ import annotations

import pytest

from integrations.common.cache import BoundedCache


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: BoundedCache[str, int] = BoundedCache(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now b is the least recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


def test_entries_older_than_the_ttl_count_as_absent() -> None:
    now = [0.0]
    cache: BoundedCache[str, str] = BoundedCache(10, ttl=60, clock=lambda: now[0])
    cache.put("u", "Ana")
    now[0] = 60
    assert cache.get("u") == "Ana"
    now[0] = 61
    assert cache.get("u") is None and len(cache) == 0


def test_add_is_true_only_the_first_time_and_pop_forgets() -> None:
    cache: BoundedCache[int, bool] = BoundedCache(3)
    assert cache.add(7, True) and not cache.add(7, True)
    assert 7 in cache and cache.pop(7) is True and 7 not in cache
    assert cache.pop(7, False) is False
    assert cache.setdefault(8, False) is False and cache.setdefault(8, True) is False


def test_a_cache_needs_room() -> None:
    with pytest.raises(ValueError, match="at least one"):
        BoundedCache(0)

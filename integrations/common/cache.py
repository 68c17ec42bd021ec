"""A bounded cache for what an adapter learns from its platform (DM channels, users, event ids
already handled): least recently used entries go first, and with a `ttl` an entry older than
that counts as absent. Nothing an adapter remembers grows without limit."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    def __init__(
        self,
        capacity: int,
        *,
        ttl: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if capacity < 1:
            raise ValueError("a cache needs room for at least one entry")
        self.capacity = capacity
        self._ttl = ttl
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: K) -> bool:
        return self.get(key) is not None

    def get(self, key: K) -> V | None:
        """The value, or None when absent or expired; a hit becomes the most recently used."""
        hit = self._entries.get(key)
        if hit is None:
            return None
        if self._ttl is not None and self._clock() - hit[0] > self._ttl:
            del self._entries[key]
            return None
        self._entries.move_to_end(key)
        return hit[1]

    def put(self, key: K, value: V) -> None:
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.capacity:
            self._entries.popitem(last=False)

    def pop(self, key: K, default: V | None = None) -> V | None:
        """Forgets `key`; returns its value (expired or not), else `default`."""
        hit = self._entries.pop(key, None)
        return default if hit is None else hit[1]

    def setdefault(self, key: K, value: V) -> V:
        """The cached value if there is one, else `value`, now cached."""
        found = self.get(key)
        if found is not None:
            return found
        self.put(key, value)
        return value

    def add(self, key: K, value: V) -> bool:
        """Caches `value` and returns True, unless `key` is already cached (then False): a
        first-time check for event ids."""
        if self.get(key) is not None:
            return False
        self.put(key, value)
        return True

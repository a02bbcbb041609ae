"""A per-process memory of `numberMatched` counts, keyed by the generation they describe.

A generation (a GeoPackage file identity, a PostGIS table) never changes once published:
a replace or an edit writes a new one. So a count keyed by the generation, the SQL and its
parameters can never go stale, and a client paging through a filtered result (or many
clients asking for the same map view) pays for the count once instead of once per page.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

MISSING = object()


class CountCache:
    """A bounded least-recently-used map; safe to share between a process's threads."""

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, int | None] = OrderedDict()
        self._lock = threading.Lock()

    def peek(self, key: Hashable) -> object:
        """The remembered count (an int or None), or MISSING; a hit is kept longer."""
        with self._lock:
            found: Any = self._entries.get(key, MISSING)
            if found is not MISSING:
                self._entries.move_to_end(key)
            return found

    def put(self, key: Hashable, value: int | None) -> None:
        """Remember a count (two requests may both count once first, harmlessly)."""
        with self._lock:
            self._entries[key] = value
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def count_key(generation: Hashable, sql: str, params: list[Any], cap: int) -> Hashable:
    """The cache key of one count: a digest of the selection, so that remembered keys stay
    small even when a filter binds a large geometry (up to 10,000 vertices)."""
    digest = hashlib.sha256(repr((sql, params)).encode()).digest()
    return (generation, cap, digest)

"""Rendered tiles kept in memory, bounded by bytes.

A key names the collection and its generation (and every parameter), and a tile is served
from here only after the request passed the same access decision as any other read of
that collection: the cache never decides who may see a tile, the route did before.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any

from .. import __version__

#: Bumped whenever the bytes a key renders to change (the ETag derives from it).
RENDERER = "1"


def etag_of(key: Hashable) -> str:
    """A strong ETag from what the tile is a pure function of (and the renderer's version)."""
    digest = hashlib.blake2b(repr((__version__, RENDERER, key)).encode(), digest_size=16)
    return f'"{digest.hexdigest()}"'


class TileCache:
    """Values (a tile and its ETag) counted by the size given with each (its bytes)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: Any, size: int) -> None:
        if size > self.max_bytes // 8:
            return  # one tile never pushes out most of the others
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self.max_bytes and self._items:
                _key, (_value, dropped) = self._items.popitem(last=False)
                self._bytes -= dropped

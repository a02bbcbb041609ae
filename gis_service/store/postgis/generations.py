"""What the PostGIS store remembers between requests about the catalog, safely.

Each generation of a collection is its own table, and the catalog row naming the current
table is swapped in one transaction by a commit. Parsing that row's JSON on every request
costs more than the query it serves, so a parsed row is kept, keyed by (table, text): a
table's metadata never changes. Which table is current is never assumed: a read that
starts from a remembered table checks the catalog in the same round trip (a pipeline) and
starts again from the catalog when another commit won.
"""

from __future__ import annotations

import threading

from ...domain.access import AccessPolicy
from ...domain.collection import CollectionInfo


class Generations:
    """Parsed catalog rows; a parsed info also names the table it describes."""

    def __init__(self, size: int = 512) -> None:
        self.size = size
        self._infos: dict[tuple[str, str], CollectionInfo] = {}
        self._tables: dict[int, tuple[CollectionInfo, str]] = {}
        self._policies: dict[str, AccessPolicy] = {}
        self._lock = threading.Lock()

    def info(self, table: str, text: str) -> CollectionInfo:
        """The parsed metadata of `table` (the same object for every request)."""
        found = self._infos.get((table, text))
        if found is not None:
            return found
        info = CollectionInfo.model_validate_json(text)
        with self._lock:
            if len(self._infos) >= self.size:  # replaced generations age out wholesale
                self._infos.clear()
                self._tables.clear()
            self._infos[(table, text)] = info
            self._tables[id(info)] = (info, table)
        return info

    def table_of(self, info: CollectionInfo) -> str | None:
        """The table a parsed info describes; None for an info parsed elsewhere."""
        found = self._tables.get(id(info))
        return found[1] if found is not None and found[0] is info else None

    def policy(self, text: str | None) -> AccessPolicy:
        """A collection without a policy row is public (as Catalog.get_access says)."""
        if text is None:
            return AccessPolicy()
        found = self._policies.get(text)
        if found is None:
            found = AccessPolicy.model_validate_json(text)
            with self._lock:
                if len(self._policies) >= self.size:
                    self._policies.clear()
                self._policies[text] = found
        return found

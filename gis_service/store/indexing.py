"""Which properties get a B-tree index when a generation is published, on both stores.

Equality filters (`?category=school`) and their `numberMatched` then read an index instead
of the table: a count walks the matching index entries, never a million rows. Strings and
integers are what such filters name; a wide table indexes only its first few of them, so
publishing stays within a small factor of copying the data (W7 in bench/README.md).
"""

from __future__ import annotations

from ..domain.collection import PropertyDef, PropertyType

INDEXED_TYPES = frozenset({PropertyType.STRING, PropertyType.INTEGER})
MAX_INDEXES = 8


def indexed(properties: list[PropertyDef]) -> list[tuple[int, PropertyDef]]:
    """(position, property) of each property to index, in schema order."""
    chosen = [(i, p) for i, p in enumerate(properties) if p.type in INDEXED_TYPES]
    return chosen[:MAX_INDEXES]

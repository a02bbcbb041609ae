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
#: PostgreSQL refuses B-tree entries above ~2700 bytes (a third of a page), so on PostGIS
#: a text property's B-tree holds values up to this many UTF-8 bytes (a partial index) and
#: a hash index, which stores only hash codes, the longer ones; an equality names the one
#: it needs (`octet_length(column) <= SHORT_TEXT_BYTES` or `>`), so both stay index reads.
SHORT_TEXT_BYTES = 2000


def is_short_text(value: str) -> bool:
    """Whether the PostGIS B-tree (rather than the hash index) holds `value`."""
    return (
        len(value) * 4 <= SHORT_TEXT_BYTES
        or len(value.encode(errors="surrogatepass")) <= SHORT_TEXT_BYTES
    )


def indexed(properties: list[PropertyDef]) -> list[tuple[int, PropertyDef]]:
    """(position, property) of each property to index, in schema order."""
    chosen = [(i, p) for i, p in enumerate(properties) if p.type in INDEXED_TYPES]
    return chosen[:MAX_INDEXES]


def pg_indexes(table: str, column: str, prop: PropertyDef) -> list[str]:
    """The PostGIS indexes of one indexed property (see postgis.writer for the B-tree's key);
    text longer than `SHORT_TEXT_BYTES` gets a hash index of its own (one more pass over
    the table: ~0.2 s per million rows, a tenth of the B-tree's build)."""
    btree = f'CREATE INDEX ON {table} ({column}, "fid") WITH (deduplicate_items = off)'
    if prop.type is not PropertyType.STRING:
        return [btree]
    return [
        f"{btree} WHERE octet_length({column}) <= {SHORT_TEXT_BYTES}",
        f"CREATE INDEX ON {table} USING hash ({column})"
        f" WHERE octet_length({column}) > {SHORT_TEXT_BYTES}",
    ]

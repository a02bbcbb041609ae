"""PostGIS side of retention: a version is a table of its own, measured and dropped here."""

from __future__ import annotations

from ..catalog_versions import VersionRecord
from ..sql import quote
from .host import Host

#: A drop waits this long for readers of the table (a version read without a lease, e.g.
#: `?version=N`), then gives up until the next pass rather than queue everyone behind it.
LOCK_TIMEOUT = "5s"


def _table(store: Host, record: VersionRecord) -> str:
    return f"{quote(store.schema)}.{quote(record.location)}"


def version_sizes(store: Host, collection_id: str, records: list[VersionRecord]) -> dict[int, int]:
    """pg_total_relation_size of each version's table (heap, indexes, TOAST) in one
    statement; the current generation is the current version's table, counted once."""
    kept = [r for r in records if r.pruned is None]
    if not kept:
        return {}
    with store.pool.connection() as conn:
        rows = conn.execute(
            "SELECT n, pg_total_relation_size(to_regclass(t))"
            " FROM unnest(%s::int[], %s::text[]) AS x(n, t)",
            ([r.version for r in kept], [_table(store, r) for r in kept]),
        ).fetchall()
    return {n: int(size) for n, size in rows if size is not None}


def drop_version(store: Host, collection_id: str, record: VersionRecord) -> int:
    """Drop a pruned version's table; never the table the collection names as current."""
    table = _table(store, record)
    with store.pool.connection() as conn, conn.transaction():
        conn.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        current = conn.execute(
            f"SELECT table_name FROM {store.collections_table} WHERE id = %s", (collection_id,)
        ).fetchone()
        if current is not None and current[0] == record.location:
            return 0
        size_sql = "SELECT pg_total_relation_size(to_regclass(%s))"
        (size,) = conn.execute(size_sql, (table,)).fetchone()
        if size is None:
            return 0  # dropped already
        conn.execute(f"DROP TABLE IF EXISTS {table}")
    return int(size)

"""The catalog's raster section: which COG is each raster collection's current version.

A raster collection has no table or GeoPackage of its own: its data is one COG file per
version (`raster_files.py`), and this table points at the current one. Publishing is one
catalog transaction that numbers the version, records it in `versions` and moves the
pointer, taken under a lock (SQLite's write lock, a PostgreSQL advisory lock per
collection), so simultaneous writers get consecutive versions and readers see the old
file or the new, never a half of either.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from ..errors import Conflict
from .catalog_versions import VERSION_COLUMNS, VersionRecord

RASTERS_DDL = [
    "CREATE TABLE IF NOT EXISTS {p}rasters (collection TEXT PRIMARY KEY,"
    " version INTEGER NOT NULL, location TEXT NOT NULL, info TEXT NOT NULL)",
]

_UPSERT = (
    "INSERT INTO {p}rasters (collection, version, location, info) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (collection) DO UPDATE SET version = excluded.version,"
    " location = excluded.location, info = excluded.info"
)

_INSERT = (
    f"INSERT INTO {{p}}versions ({', '.join(VERSION_COLUMNS)})"
    f" VALUES ({', '.join('?' * len(VERSION_COLUMNS))})"
)


class RastersCatalog:
    """The rasters section of `Catalog` (which supplies the connection and dialect)."""

    _connect: Callable[[], AbstractContextManager[Any]]
    _ph: str

    def _all(self, template: str, params: tuple = ()) -> list[tuple]:
        raise NotImplementedError

    def _do(self, template: str, params: tuple = ()) -> int:
        raise NotImplementedError

    def _sql(self, template: str) -> str:
        raise NotImplementedError

    def raster_info(self, collection_id: str) -> str | None:
        """The current version's CollectionInfo (JSON) of a raster collection, or None."""
        rows = self._all("SELECT info FROM {p}rasters WHERE collection = ?", (collection_id,))
        return rows[0][0] if rows else None

    def raster_infos(self) -> list[str]:
        return [r[0] for r in self._all("SELECT info FROM {p}rasters ORDER BY collection")]

    def raster_locations(self) -> set[str]:
        """Every COG a version record names (pruned ones too: their files go by retention)."""
        rows = self._all("SELECT location FROM {p}versions WHERE location LIKE ?", ("%.tif",))
        return {r[0] for r in rows}

    def forget_raster(self, collection_id: str) -> None:
        self._do("DELETE FROM {p}rasters WHERE collection = ?", (collection_id,))

    @contextmanager
    def _locked(self, collection_id: str) -> Iterator[Any]:
        """A transaction holding the collection's publishing lock until it ends."""
        with self._connect() as conn:
            if self._ph == "%s":  # PostgreSQL: autocommit connections, so a transaction
                with conn.transaction():
                    conn.execute(
                        "SELECT pg_advisory_xact_lock(hashtext('raster:' || %s))",
                        (collection_id,),
                    )
                    yield conn
            else:  # SQLite: the write lock, before the version number is read
                conn.execute("BEGIN IMMEDIATE")
                yield conn

    def publish_raster(
        self,
        collection_id: str,
        record: Callable[[int], VersionRecord],
        *,
        create_only: bool = False,
    ) -> VersionRecord:
        """Record the next version (`record(number)` makes it) and make it current."""
        with self._locked(collection_id) as conn:
            if create_only:
                found = conn.execute(
                    self._sql("SELECT 1 FROM {p}rasters WHERE collection = ?"), (collection_id,)
                ).fetchall()
                if found:
                    raise Conflict(f"collection {collection_id!r} exists already")
            latest = conn.execute(
                self._sql("SELECT max(version) FROM {p}versions WHERE collection = ?"),
                (collection_id,),
            ).fetchall()
            made = record(int(latest[0][0] or 0) + 1)
            conn.execute(self._sql(_INSERT), tuple(getattr(made, c) for c in VERSION_COLUMNS))
            conn.execute(
                self._sql(_UPSERT), (collection_id, made.version, made.location, made.info)
            )
            return made

"""The catalog's versions: who published each generation, and which are held or pruned.

Beside each version record lies at most one lease row: until when a reader needs that
version (a running download, a cursor pinned to it) and, once it is pruned, since when.
Readers and the pruner meet on that one row through an upsert whose condition both
stores check against the row's newest state (PostgreSQL locks the conflicting row; SQLite
has one writer at a time): a version is either held or pruned, never both. A pruned
version keeps its record (who, when, how), so reading it answers 410 rather than 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

VERSIONS_DDL = [
    "CREATE TABLE IF NOT EXISTS {p}versions (collection TEXT NOT NULL, version INTEGER NOT NULL,"
    " created TEXT NOT NULL, entity TEXT, key_id TEXT, operation TEXT NOT NULL,"
    " features INTEGER NOT NULL, location TEXT NOT NULL, info TEXT NOT NULL, report TEXT,"
    " PRIMARY KEY (collection, version))",
    "CREATE TABLE IF NOT EXISTS {p}version_leases (collection TEXT NOT NULL,"
    " version INTEGER NOT NULL, expires TEXT NOT NULL, pruned TEXT,"
    " PRIMARY KEY (collection, version))",
]
VERSION_COLUMNS = (
    "collection",
    "version",
    "created",
    "entity",
    "key_id",
    "operation",
    "features",
    "location",
    "info",
    "report",
)
_SELECT = (
    ", ".join(f"v.{c}" for c in VERSION_COLUMNS)
    + ", l.pruned FROM {p}versions v LEFT JOIN {p}version_leases l"
    " ON l.collection = v.collection AND l.version = v.version"
)
# Extends a live lease (never shortens one); changes nothing once the version is pruned,
# and writes nothing for a version that has no record (callers name any number).
_HOLD = (
    "INSERT INTO {p}version_leases AS l (collection, version, expires, pruned)"
    " SELECT v.collection, v.version, ?, NULL FROM {p}versions v"
    " WHERE v.collection = ? AND v.version = ? ON CONFLICT (collection, version) DO UPDATE"
    " SET expires = CASE WHEN excluded.expires > l.expires THEN excluded.expires"
    " ELSE l.expires END WHERE l.pruned IS NULL"
)
# Marks a version pruned unless a lease still holds it (or it is pruned already).
_CLAIM = (
    "INSERT INTO {p}version_leases AS l (collection, version, expires, pruned)"
    " VALUES (?, ?, ?, ?) ON CONFLICT (collection, version) DO UPDATE"
    " SET pruned = excluded.pruned WHERE l.pruned IS NULL AND l.expires <= excluded.expires"
)


@dataclass(frozen=True)
class Actor:
    """Who makes a new version, and how (import, upload, append, edit, rollback)."""

    operation: str
    entity: str | None = None
    key_id: str | None = None


def stamp(moment: datetime) -> str:
    """The catalog's time format (UTC, fixed width: text order is time order)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class VersionRecord:
    """One published generation of a collection: who made it, how, and where it lies."""

    collection: str
    version: int
    created: str
    entity: str | None
    key_id: str | None
    operation: str
    features: int
    location: str  # a file name (GeoPackage store) or a table name (PostGIS)
    info: str  # the version's CollectionInfo, as JSON
    report: str | None = None  # the ingest report, as JSON, when data was imported
    pruned: str | None = None  # when retention removed its data (the record stays)


class VersionsCatalog:
    """The versions section of `Catalog` (which supplies the connection and dialect)."""

    def _all(self, template: str, params: tuple = ()) -> list[tuple]:
        raise NotImplementedError

    def _do(self, template: str, params: tuple = ()) -> int:
        raise NotImplementedError

    def add_version(self, record: VersionRecord) -> None:
        marks = ", ".join("?" * len(VERSION_COLUMNS))
        self._do(
            f"INSERT INTO {{p}}versions ({', '.join(VERSION_COLUMNS)}) VALUES ({marks})",
            tuple(getattr(record, c) for c in VERSION_COLUMNS),
        )

    def latest_version(self, collection_id: str) -> int:
        rows = self._all(
            "SELECT max(version) FROM {p}versions WHERE collection = ?", (collection_id,)
        )
        return int(rows[0][0] or 0)

    def versions(self, collection_id: str) -> list[VersionRecord]:
        rows = self._all(
            f"SELECT {_SELECT} WHERE v.collection = ? ORDER BY v.version", (collection_id,)
        )
        return [VersionRecord(*r) for r in rows]

    def get_version(self, collection_id: str, version: int) -> VersionRecord | None:
        rows = self._all(
            f"SELECT {_SELECT} WHERE v.collection = ? AND v.version = ?", (collection_id, version)
        )
        return VersionRecord(*rows[0]) if rows else None

    def versioned_collections(self) -> list[str]:
        rows = self._all("SELECT DISTINCT collection FROM {p}versions ORDER BY collection")
        return [r[0] for r in rows]

    def forget_versions(self, collection_id: str) -> None:
        """A deleted collection's history; a new one of that id starts again at version 1."""
        self._do("DELETE FROM {p}versions WHERE collection = ?", (collection_id,))
        self._do("DELETE FROM {p}version_leases WHERE collection = ?", (collection_id,))

    # -- retention -------------------------------------------------------------------------
    def hold_version(self, collection_id: str, version: int, until: datetime) -> bool:
        """Keep a version from being pruned until `until`; False when it is pruned already
        (its data may be gone: the reader must not start) or has no record."""
        return self._do(_HOLD, (stamp(until), collection_id, version)) > 0

    def claim_prune(self, collection_id: str, version: int, now: datetime) -> bool:
        """Mark a version pruned if no lease holds it at `now`; True for the one caller
        that did (it then removes the data), however many processes try at once."""
        moment = stamp(now)
        return self._do(_CLAIM, (collection_id, version, moment, moment)) > 0

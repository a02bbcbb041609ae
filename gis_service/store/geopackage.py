"""The embedded store: one GeoPackage file per collection in a folder, no server.

A replace builds a new file beside the old one and renames it over: readers keep their
open file until they next look, so a half-written layer is never visible. Each thread
keeps read-only connections and reopens a file when its inode changes.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import orjson
import shapely

from ..domain.collection import CollectionInfo, PropertyDef, PropertyType, valid_collection_id
from ..domain.query import FeatureQuery
from ..errors import CollectionNotFound, VersionNotFound
from . import gpkg_format
from .base import (
    Actor,
    Changes,
    CollectionWriter,
    Feature,
    FeatureBatch,
    FeaturePage,
    Store,
    classify,
)
from .catalog import Catalog, VersionRecord
from .gpkg_query import GpkgDialect, GpkgRows, Layout, bind_column
from .paging import check_filters, run_page
from .sql import build_where, quote

MMAP_BYTES = 1 << 30
CATALOG_FILE = "catalog.sqlite"
SQL_TYPES = {
    PropertyType.STRING: "TEXT",
    PropertyType.INTEGER: "INTEGER",
    PropertyType.NUMBER: "DOUBLE",
    PropertyType.BOOLEAN: "BOOLEAN",
    PropertyType.DATE: "DATE",
    PropertyType.DATETIME: "DATETIME",
}


@dataclass
class _Opened:
    key: tuple[int, int]
    info: CollectionInfo
    layout: Layout


class GeoPackageStore(Store):
    # Reads are CPU-bound in-process work: one thread per process, more processes for more.
    concurrency = 1
    runs_inline = True

    def __init__(self, folder: str | os.PathLike[str], *, count_cap: int = 100_000) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count_cap = count_cap
        self._local = threading.local()
        self._opened: dict[str, _Opened] = {}
        self.catalog = Catalog(self._catalog_connection, "?")

    @contextmanager
    def _catalog_connection(self) -> Iterator[sqlite3.Connection]:
        """One catalog connection per thread; WAL lets workers read while one writes."""
        conn = getattr(self._local, "catalog", None)
        if conn is None:
            conn = sqlite3.connect(self.folder / CATALOG_FILE, timeout=10, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            self._local.catalog = conn
        with conn:  # commits, or rolls back on error
            yield conn

    def path(self, collection_id: str) -> Path:
        return self.folder / f"{collection_id}.gpkg"

    def version_path(self, collection_id: str, version: int) -> Path:
        return self.folder / ".versions" / collection_id / f"{version}.gpkg"

    # -- reading ---------------------------------------------------------------------
    def _connect(
        self, collection_id: str, version: int | None = None
    ) -> tuple[sqlite3.Connection, _Opened]:
        if not valid_collection_id(collection_id):
            raise CollectionNotFound(collection_id)
        path = self.path(collection_id)
        if version is not None:
            if self.catalog.get_version(collection_id, version) is None:
                raise VersionNotFound(collection_id, version)
            path = self.version_path(collection_id, version)
            collection_id = f"{collection_id}@{version}"  # its own cache entries
        try:
            st = path.stat()
        except FileNotFoundError:
            raise CollectionNotFound(collection_id) from None
        key = (st.st_ino, st.st_mtime_ns)
        conns: dict[str, tuple[tuple[int, int], sqlite3.Connection]] = (
            getattr(self._local, "conns", None) or {}
        )
        self._local.conns = conns
        held = conns.get(collection_id)
        if held is None or held[0] != key:
            if held is not None:
                held[1].close()
            conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")  # shared OS cache, no read copies
            gpkg_format.register_functions(conn)
            conns[collection_id] = held = (key, conn)
        conn = held[1]
        opened = self._opened.get(collection_id)
        if opened is None or opened.key != key:
            opened = _read_metadata(conn, key)
            self._opened[collection_id] = opened
        return conn, opened

    def list_collections(self) -> list[CollectionInfo]:
        infos = []
        for path in sorted(self.folder.glob("*.gpkg")):
            if path.name.startswith("."):
                continue
            try:
                infos.append(self.get_collection(path.stem))
            except CollectionNotFound:
                continue  # removed meanwhile
        return infos

    def get_collection(self, collection_id: str) -> CollectionInfo:
        return self._connect(collection_id)[1].info

    def query_features(self, *, collection: CollectionInfo, query: FeatureQuery) -> FeaturePage:
        conn, opened = self._connect(collection.id, query.version)
        check_filters(opened.info, query)
        rows = GpkgRows(conn, opened.info, opened.layout, query)
        where = build_where(opened.info, query, GpkgDialect(opened.layout))
        return run_page(rows, opened.info, query, where, self.count_cap)

    def get_feature(
        self, *, collection: CollectionInfo, fid: int, version: int | None = None
    ) -> Feature:
        conn, opened = self._connect(collection.id, version)
        return GpkgRows(conn, opened.info, opened.layout).by_id(fid, collection.id)

    # -- writing ---------------------------------------------------------------------
    def _writer(
        self,
        collection_id: str,
        properties: list[PropertyDef],
        keep_existing: bool,
        from_version: int | None,
    ) -> CollectionWriter:
        if not keep_existing:
            return _GpkgWriter(self, collection_id, properties)
        self.get_collection(collection_id)  # raises CollectionNotFound
        source = self.path(collection_id)
        if from_version is not None:
            self.version_info(collection_id, from_version)  # raises VersionNotFound
            source = self.version_path(collection_id, from_version)
        return _GpkgWriter(self, collection_id, properties, copy_of=source)

    def changes(self, *, collection_id: str, since: int) -> Changes:
        conn, opened = self._connect(collection_id)
        old_conn, old = self._connect(collection_id, since)
        ids = _id_query(opened.layout)
        new_ids = {r[0] for r in conn.execute(ids)}
        old_ids = {r[0] for r in old_conn.execute(_id_query(old.layout))}
        if old.info.properties == opened.info.properties and old.layout == opened.layout:
            differing = _differing(
                self.path(collection_id), self.version_path(collection_id, since), opened
            )
        else:  # a new schema: every kept feature counts as updated
            differing = new_ids & old_ids
        inserted, updated, deleted = classify(old_ids, new_ids, differing)
        rows = GpkgRows(conn, opened.info, opened.layout)
        return Changes(
            since=since,
            version=opened.info.version,
            inserted=rows.by_ids(inserted),
            updated=rows.by_ids(updated),
            deleted=deleted,
        )

    def delete_collection(self, *, collection_id: str) -> None:
        path = self.path(collection_id)
        if not valid_collection_id(collection_id) or not path.exists():
            raise CollectionNotFound(collection_id)
        path.unlink()
        shutil.rmtree(self.version_path(collection_id, 0).parent, ignore_errors=True)
        self.catalog.forget_access(collection_id)
        self.catalog.forget_versions(collection_id)

    def close(self) -> None:
        for _key, conn in (getattr(self._local, "conns", None) or {}).values():
            conn.close()
        self._local.conns = {}
        catalog = getattr(self._local, "catalog", None)
        if catalog is not None:
            catalog.close()
            self._local.catalog = None


def _read_metadata(conn: sqlite3.Connection, key: tuple[int, int]) -> _Opened:
    document = orjson.loads(gpkg_format.read_metadata(conn))
    info = CollectionInfo.model_validate(document["collection"])
    return _Opened(key=key, info=info, layout=Layout(**document["layout"]))


class _GpkgWriter(CollectionWriter):
    def __init__(
        self,
        store: GeoPackageStore,
        collection_id: str,
        properties: list[PropertyDef],
        copy_of: Path | None = None,
    ):
        self.store = store
        self.final = store.path(collection_id)
        self.tmp = store.folder / f".{collection_id}.{uuid.uuid4().hex}.tmp"
        self.properties = properties
        # One writer per collection at a time, across processes: an append copies the
        # current generation, and two appends from the same copy would lose one of them.
        lock_path = store.folder / f".{collection_id}.lock"  # kept: unlinking would race
        self._lock: BinaryIO | None = lock_path.open("ab")  # held until commit or abort
        fcntl.flock(self._lock, fcntl.LOCK_EX)
        try:
            self._open(collection_id, copy_of)
        except BaseException:
            self._unlock()
            self.tmp.unlink(missing_ok=True)
            raise

    def _unlock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None

    def _open(self, collection_id: str, copy_of: Path | None) -> None:
        properties = self.properties
        if copy_of is not None:
            shutil.copyfile(copy_of, self.tmp)  # the current generation is never edited
        self.conn = sqlite3.connect(self.tmp)
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: R-tree inserts stay in memory
        self.conn.execute("PRAGMA synchronous = OFF")
        gpkg_format.register_functions(self.conn)
        if copy_of is not None:
            current = _read_metadata(self.conn, (0, 0))
            self.layout, self.previous = current.layout, current.info
            gpkg_format.drop_rtree_triggers(
                self.conn, table=self.layout.table, geom=self.layout.geom
            )
            (top,) = self.conn.execute(
                f"SELECT max({quote(self.layout.fid)}) FROM {quote(self.layout.table)}"
            ).fetchone()
            self.next_fid = (top or 0) + 1
        else:
            self.layout = Layout.for_properties(collection_id, properties)
            gpkg_format.create_core(self.conn)
            gpkg_format.create_feature_table(
                self.conn,
                table=self.layout.table,
                fid=self.layout.fid,
                geom=self.layout.geom,
                geometry_type="GEOMETRY",
                columns=[(p.name, SQL_TYPES[p.type]) for p in properties],
            )
            gpkg_format.create_rtree_table(
                self.conn, table=self.layout.table, geom=self.layout.geom
            )
        names = [self.layout.fid, self.layout.geom] + [p.name for p in properties]
        marks = ", ".join("?" * len(names))
        self.has_z = False
        self.insert_sql = (
            f"INSERT OR REPLACE INTO {quote(self.layout.table)} ({', '.join(map(quote, names))})"
            f" VALUES ({marks})"
        )

    def write(self, batch: FeatureBatch) -> None:
        fids = batch.fids.tolist()
        self.has_z = self.has_z or bool(shapely.has_z(batch.geometries).any())
        blobs = gpkg_format.encode(batch.geometries)
        columns = [bind_column(batch.columns[p.name], p.type) for p in self.properties]
        self.conn.executemany(self.insert_sql, zip(fids, blobs, *columns, strict=True))
        bounds = shapely.bounds(batch.geometries)
        present = ~shapely.is_missing(batch.geometries) & ~shapely.is_empty(batch.geometries)
        self.conn.executemany(
            f"INSERT OR REPLACE INTO {self.layout.rtree} VALUES (?, ?, ?, ?, ?)",
            (
                (fid, b[0], b[2], b[1], b[3])
                for fid, b, keep in zip(fids, bounds.tolist(), present.tolist(), strict=True)
                if keep
            ),
        )

    def delete(self, fids: list[int]) -> None:
        params = [(fid,) for fid in fids]
        table, fid = quote(self.layout.table), quote(self.layout.fid)
        self.conn.executemany(f"DELETE FROM {table} WHERE {fid} = ?", params)
        self.conn.executemany(f"DELETE FROM {self.layout.rtree} WHERE id = ?", params)

    def commit(self, info: CollectionInfo) -> None:
        conn, layout = self.conn, self.layout
        version = self.store.catalog.latest_version(info.id) + 1  # we hold the writer turn
        info = info.model_copy(update={"version": version})
        conn.execute(
            "UPDATE gpkg_geometry_columns SET geometry_type_name = ?, z = ? WHERE table_name = ?",
            (info.geometry_type.upper(), int(self.has_z), layout.table),
        )
        minx, miny, maxx, maxy = info.bbox or (None, None, None, None)
        conn.execute(
            "UPDATE gpkg_contents SET identifier = ?, description = ?, min_x = ?, min_y = ?,"
            " max_x = ?, max_y = ? WHERE table_name = ?",
            (info.title, info.description, minx, miny, maxx, maxy, layout.table),
        )
        if info.has_null_geometry:
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(layout.table + '_null_geometry')}"
                f" ON {quote(layout.table)}"
                f" ({quote(layout.fid)}) WHERE {quote(layout.geom)} IS NULL"
            )
        gpkg_format.create_rtree_triggers(
            conn, table=layout.table, fid=layout.fid, geom=layout.geom
        )
        document = {"collection": info.model_dump(mode="json"), "layout": layout.__dict__}
        gpkg_format.write_metadata(conn, layout.table, orjson.dumps(document).decode())
        conn.commit()
        conn.close()
        with open(self.tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        kept = self.store.version_path(info.id, version)
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.link(self.tmp, kept)  # every generation stays readable as its version
        os.replace(self.tmp, self.final)
        _fsync_dir(self.final.parent)
        actor = self.actor or Actor(operation="write")
        self.store.catalog.add_version(
            VersionRecord(
                collection=info.id,
                version=version,
                created=_utc_now(),
                entity=actor.entity,
                key_id=actor.key_id,
                operation=actor.operation,
                features=info.feature_count,
                location=kept.name,
                info=info.model_dump_json(),
                report=orjson.dumps(self.report).decode() if self.report else None,
            )
        )
        self._unlock()

    def abort(self) -> None:
        self.conn.close()
        self.tmp.unlink(missing_ok=True)
        self._unlock()


def _id_query(layout: Layout) -> str:
    return f"SELECT {quote(layout.fid)} FROM {quote(layout.table)}"


def _differing(current: Path, old: Path, opened: _Opened) -> set[int]:
    """Ids whose geometry or any property differs between two files of one schema."""
    layout = opened.layout
    t, f = quote(layout.table), quote(layout.fid)
    columns = [quote(layout.geom)] + [quote(p.name) for p in opened.info.properties]
    differs = " OR ".join(f"n.{c} IS NOT o.{c}" for c in columns)
    conn = sqlite3.connect(f"file:{current}?mode=ro", uri=True)
    try:
        conn.execute("ATTACH DATABASE ? AS old", (f"file:{old}?mode=ro",))
        rows = conn.execute(
            f"SELECT n.{f} FROM main.{t} n JOIN old.{t} o ON o.{f} = n.{f} WHERE {differs}"
        ).fetchall()
    finally:
        conn.close()
    return {r[0] for r in rows}


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

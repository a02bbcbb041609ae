"""The embedded store: one GeoPackage file per collection in a folder, no server.

A replace builds a new file beside the old one and renames it over: readers keep their
open file until they next look, so a half-written layer is never visible. Each thread
keeps read-only connections and reopens a file when its inode changes.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ...domain.collection import CollectionInfo, PropertyDef, valid_collection_id
from ...domain.query import FeatureQuery
from ...errors import CollectionNotFound, StoreUnavailable, VersionGone, VersionNotFound
from .. import streaming
from ..base import (
    Changes,
    CollectionWriter,
    Feature,
    FeatureBoxes,
    FeaturePage,
    Store,
    classify,
)
from ..catalog import Catalog, VersionRecord
from ..counts import CountCache
from ..paging import check_filters, run_page
from ..rows import run
from ..sorting import selection_sql
from ..sql import quote
from ..streaming import ExportBatch, FeatureStream
from ..turns import Turns
from ..where import build_where
from . import boxes, encoding, filters, recovery
from .filters import Deadline
from .query import GpkgDialect, GpkgRows, Layout, Opened, read_metadata
from .writer import GpkgWriter

MMAP_BYTES = 1 << 30
MAX_VERSION_CONNECTIONS = 16
CATALOG_FILE = "catalog.sqlite"


class GeoPackageStore(Store):
    # Reads are CPU-bound in-process work: one thread per process, more processes for more.
    concurrency = 1
    runs_inline = True

    def __init__(
        self,
        folder: str | os.PathLike[str],
        *,
        count_cap: int = 100_000,
        statement_timeout_ms: int = 30_000,
    ) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count_cap = count_cap
        self.statement_timeout_ms = statement_timeout_ms  # as PostGIS's statement_timeout
        self._local = threading.local()
        self._opened: dict[str, Opened] = {}
        self.counts = CountCache()
        self.turns = Turns()  # writers of a collection in this process queue here
        self.catalog = Catalog(self._catalog_connection, "?")
        self.prune_epoch = 0  # counts pruning passes: threads then close what went
        recovery.recover_folder(self)  # what writers killed mid-commit left behind

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
    ) -> tuple[sqlite3.Connection, Opened]:
        if not valid_collection_id(collection_id):
            raise CollectionNotFound(collection_id)
        if getattr(self._local, "epoch", 0) != self.prune_epoch:
            self._close_pruned()
        path = self.path(collection_id)
        if version is not None:
            self._check_version(collection_id, version)
            path = self.version_path(collection_id, version)
        try:
            st = path.stat()
        except FileNotFoundError:
            if version is not None:
                self._check_version(collection_id, version)  # pruned meanwhile: 410
            raise CollectionNotFound(collection_id) from None
        if version is not None:
            collection_id = f"{collection_id}@{version}"  # its own cache entries
        key = (st.st_ino, st.st_mtime_ns)
        conns: dict[str, tuple[tuple[int, int], sqlite3.Connection]] = (
            getattr(self._local, "conns", None) or {}
        )
        self._local.conns = conns
        held = conns.get(collection_id)
        if held is None or held[0] != key:
            if held is not None:
                held[1].close()
            elif version is not None:
                self._make_room(conns)
            conn = open_read_only(path)
            conns[collection_id] = held = (key, conn)
        elif version is not None:  # most recently used last
            conns[collection_id] = conns.pop(collection_id)
        conn = held[1]
        opened = self._opened.get(collection_id)
        if opened is None or opened.key != key:
            opened = read_metadata(conn, key)
            self._opened[collection_id] = opened
        return conn, opened

    def _check_version(self, collection_id: str, version: int) -> None:
        record = self.catalog.get_version(collection_id, version)
        if record is None:
            raise VersionNotFound(collection_id, version)
        if record.pruned is not None:
            raise VersionGone(collection_id, version)

    def _generation(
        self, collection: CollectionInfo, version: int | None
    ) -> tuple[sqlite3.Connection, Opened, Path]:
        """The current file when it still holds `version` (or none is asked for: the hot
        path, no catalog lookup), else that version's file."""
        if version is None or version == collection.version:
            conn, opened = self._connect(collection.id)
            if version is None or opened.info.version == version:
                return conn, opened, self.path(collection.id)
        conn, opened = self._connect(collection.id, version)
        return conn, opened, self.version_path(collection.id, version)

    def list_collections(self) -> list[CollectionInfo]:
        infos = []
        for path in sorted(self.folder.glob("*.gpkg")):
            if path.name.startswith("."):
                continue
            try:
                infos.append(self._connect(path.stem)[1].info)
            except CollectionNotFound:
                continue  # removed meanwhile
        return self.with_rasters(infos)

    def get_collection(self, collection_id: str) -> CollectionInfo:
        try:
            return self._connect(collection_id)[1].info
        except CollectionNotFound:
            raster = self.raster_collection(collection_id)
            if raster is None:
                raise
            return raster

    def query_features(self, *, collection: CollectionInfo, query: FeatureQuery) -> FeaturePage:
        conn, opened, _path = self._generation(collection, query.version)
        check_filters(opened.info, query)
        rows = GpkgRows(opened.info, opened.layout, query)
        rows.generation = (collection.id, query.version, opened.key)  # a file never changes
        dialect = GpkgDialect(opened.layout)
        where = build_where(opened.info, query, dialect)
        page = run_page(rows, opened.info, query, where, self.count_cap, dialect, self.counts)
        with Deadline(conn, self.statement_timeout_ms):
            return run(conn, page)

    def get_feature(
        self, *, collection: CollectionInfo, fid: int, version: int | None = None
    ) -> Feature:
        conn, opened, _path = self._generation(collection, version)
        return run(conn, GpkgRows(opened.info, opened.layout).by_id(fid, collection.id))

    def feature_boxes(self, *, collection: CollectionInfo, version: int | None) -> FeatureBoxes:
        conn, opened, _path = self._generation(collection, version)
        with Deadline(conn, self.statement_timeout_ms):
            return boxes.feature_boxes(conn, opened)

    def open_stream(
        self, *, collection: CollectionInfo, query: FeatureQuery, limit: int | None = None
    ) -> FeatureStream:
        # Its own connection: the thread-local ones belong to request threads, and a
        # download is read from whichever pool thread asks for the next batch.
        path = self._generation(collection, query.version)[2]  # 404 and 410 first
        from . import whole_layer

        before = whole_layer.file_id(path)  # the whole layer is read by columns (GDAL)
        try:
            conn = open_read_only(path)
        except sqlite3.OperationalError:
            raise CollectionNotFound(collection.id) from None  # deleted meanwhile
        try:
            # Plain reads through SQLite's small page cache: a mapped file read from end
            # to end would count (hundreds of MB) against the server's resident memory.
            conn.execute("PRAGMA mmap_size = 0")
            opened = read_metadata(conn, (0, 0))
            check_filters(opened.info, query)
            if stream := whole_layer.open_stream(path, before, opened, query, limit):
                conn.close()
                return stream
            rows = GpkgRows(opened.info, opened.layout, query)
            dialect = GpkgDialect(opened.layout)
            where = build_where(opened.info, query, dialect)
            sql, params = selection_sql(rows.select_sql, where, opened.info, query, dialect, limit)
            cursor = conn.execute(sql, params)
        except BaseException:
            conn.close()
            raise
        convert = dict(rows.conversions)
        batches = streaming.batches(cursor, rows.names, encoding.wkbs_of, convert)
        return FeatureStream(opened.info, batches, conn.close)

    def read_selection(
        self, *, collection: CollectionInfo, query: FeatureQuery
    ) -> list[ExportBatch]:
        conn, opened, _path = self._generation(collection, query.version)
        check_filters(opened.info, query)
        rows = GpkgRows(opened.info, opened.layout, query)
        dialect = GpkgDialect(opened.layout)
        where = build_where(opened.info, query, dialect)
        sql, params = selection_sql(rows.select_sql, where, opened.info, query, dialect, None)
        with Deadline(conn, self.statement_timeout_ms):
            cursor = conn.execute(sql, params)
            convert = dict(rows.conversions)
            return list(streaming.batches(cursor, rows.names, encoding.wkbs_of, convert))

    # -- writing ---------------------------------------------------------------------
    def _writer(
        self,
        collection_id: str,
        properties: list[PropertyDef],
        keep_existing: bool,
        from_version: int | None,
        deadline: float | None = None,
    ) -> CollectionWriter:
        if not keep_existing:
            return GpkgWriter(self, collection_id, properties, deadline=deadline)
        self.get_collection(collection_id)  # raises CollectionNotFound
        source = self.path(collection_id)
        if from_version is not None:
            self.version_info(collection_id, from_version)  # raises VersionNotFound
            source = self.version_path(collection_id, from_version)
        return GpkgWriter(self, collection_id, properties, copy_of=source, deadline=deadline)

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
        rows = GpkgRows(opened.info, opened.layout)
        return Changes(
            since=since,
            version=opened.info.version,
            inserted=run(conn, rows.by_ids(inserted)),
            updated=run(conn, rows.by_ids(updated)),
            deleted=deleted,
        )

    # -- retention -------------------------------------------------------------------
    def version_sizes(self, collection_id: str, records: list[VersionRecord]) -> dict[int, int]:
        """Each version's file; the current file is a hard link of its version's file, so
        the current generation is counted once."""
        sizes: dict[int, int] = {}
        for record in records:
            if record.pruned is None:
                try:
                    stat = self.version_path(collection_id, record.version).stat()
                except FileNotFoundError:
                    continue
                sizes[record.version] = stat.st_size
        return sizes

    def drop_version(self, collection_id: str, record: VersionRecord) -> int:
        path = self.version_path(collection_id, record.version)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return 0
        if stat.st_nlink > 1:  # the current file links it: never remove the current data
            return 0
        path.unlink(missing_ok=True)
        self.forget_pruned()
        return stat.st_size

    def forget_pruned(self) -> None:
        self.prune_epoch += 1

    def _make_room(self, conns: dict[str, tuple[tuple[int, int], sqlite3.Connection]]) -> None:
        """Keep at most MAX_VERSION_CONNECTIONS old versions open per thread: every version
        read (pinned cursors read them too) would otherwise keep a file open for good."""
        versions = [name for name in conns if "@" in name]
        for name in versions[: max(0, len(versions) - MAX_VERSION_CONNECTIONS + 1)]:
            conns.pop(name)[1].close()
            self._opened.pop(name, None)

    def _close_pruned(self) -> None:
        """Close this thread's connections to files that are gone (a pruned version, or a
        replaced current file that was one): disk space is freed only when the last open
        connection goes."""
        self._local.epoch = self.prune_epoch
        conns = getattr(self._local, "conns", None) or {}
        for name, (key, conn) in list(conns.items()):
            collection_id, _, version = name.rpartition("@")
            if version.isdigit():
                gone = not self.version_path(collection_id, int(version)).exists()
            else:
                gone = _file_key(self.path(version)) != key  # replaced since it was opened
            if gone:
                del conns[name]
                conn.close()
                self._opened.pop(name, None)

    def delete_collection(self, *, collection_id: str) -> None:
        path = self.path(collection_id)
        if not valid_collection_id(collection_id) or not path.exists():
            raise CollectionNotFound(collection_id)
        path.unlink()
        shutil.rmtree(self.version_path(collection_id, 0).parent, ignore_errors=True)
        self.catalog.forget_access(collection_id)
        self.catalog.forget_versions(collection_id)

    async def ready_async(self) -> None:
        if not os.access(self.folder, os.R_OK | os.X_OK):
            raise StoreUnavailable("the store's folder cannot be read")

    def close(self) -> None:
        for _key, conn in (getattr(self._local, "conns", None) or {}).values():
            conn.close()
        self._local.conns = {}
        catalog = getattr(self._local, "catalog", None)
        if catalog is not None:
            catalog.close()
            self._local.catalog = None


def _file_key(path: Path) -> tuple[int, int] | None:
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    return (st.st_ino, st.st_mtime_ns)


def open_read_only(path: Path) -> sqlite3.Connection:
    """A read-only connection with the SQL functions queries use; any thread may use it."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")  # shared OS cache, no read copies
    filters.register_all(conn)
    return conn


def _id_query(layout: Layout) -> str:
    return f"SELECT {quote(layout.fid)} FROM {quote(layout.table)}"


def _differing(current: Path, old: Path, opened: Opened) -> set[int]:
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

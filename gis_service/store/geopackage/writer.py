"""Writing a GeoPackage generation: a new file beside the current one, renamed over it.

Readers keep their open file until they next look, so a half-written layer is never
visible; a lock file gives one writer per collection at a time, across processes.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sqlite3
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

import orjson
import shapely

from ...domain.collection import CollectionInfo, PropertyDef, PropertyType
from ...errors import Conflict, WriterBusy
from ..base import Actor, CollectionWriter, Feature, FeatureBatch
from ..catalog import VersionRecord
from ..indexing import indexed
from ..rows import run
from ..sql import quote
from ..turns import SHORTEST, deadline_after, left, passed
from . import encoding, filters, recovery
from .host import Host
from .query import GpkgRows, Layout, bind_column, read_metadata

SQL_TYPES = {
    PropertyType.STRING: "TEXT",
    PropertyType.INTEGER: "INTEGER",
    PropertyType.NUMBER: "DOUBLE",
    PropertyType.BOOLEAN: "BOOLEAN",
    PropertyType.DATE: "DATE",
    PropertyType.DATETIME: "DATETIME",
}


class GpkgWriter(CollectionWriter):
    def __init__(
        self,
        store: Host,
        collection_id: str,
        properties: list[PropertyDef],
        copy_of: Path | None = None,
        deadline: float | None = None,
    ):
        self.store = store
        self.collection_id = collection_id
        self.final = store.path(collection_id)
        self.tmp = store.folder / f".{collection_id}.{uuid.uuid4().hex}.tmp"
        self.properties = properties
        if deadline is None:
            deadline = deadline_after(store.statement_timeout_ms)
        self._take_turn(deadline)
        try:
            self._open(collection_id, copy_of)
        except BaseException:
            self._unlock()
            self.tmp.unlink(missing_ok=True)
            raise

    def _take_turn(self, deadline: float | None) -> None:
        """One writer per collection at a time, across processes: an append copies the
        current generation, and two appends from the same copy would lose one of them.

        Threads of this process queue on an in-process lock, processes on the lock file
        (tried until the deadline: flock itself cannot wait boundedly).
        """
        lock_path = self.store.folder / f".{self.collection_id}.lock"  # kept: unlinking races
        self._turn: threading.Lock | None = self.store.turns.take(
            str(lock_path), deadline, self.collection_id
        )
        self._lock: BinaryIO | None = None
        try:
            self._lock = lock_path.open("ab")  # held until commit or abort
            flags = fcntl.LOCK_EX if deadline is None else fcntl.LOCK_EX | fcntl.LOCK_NB
            pause = SHORTEST
            while True:
                try:
                    fcntl.flock(self._lock, flags)
                    return
                except BlockingIOError:
                    if passed(deadline):
                        raise WriterBusy(self.collection_id) from None
                time.sleep(min(pause, left(deadline) or pause))
                pause = min(pause * 2, 0.01)  # short: the other process's turns are short
        except BaseException:
            self._unlock()
            raise

    def _unlock(self) -> None:
        if self._lock is not None:
            fcntl.flock(self._lock, fcntl.LOCK_UN)
            self._lock.close()
            self._lock = None
        turn, self._turn = self._turn, None
        if turn is not None:
            turn.release()

    def get_feature(self, fid: int) -> Feature:
        """The row as this generation holds it now: copied, or as written."""
        info = self.previous or CollectionInfo(
            id=self.collection_id, title=self.collection_id, properties=self.properties
        )
        return run(self.conn, GpkgRows(info, self.layout).by_id(fid, self.collection_id))

    def _open(self, collection_id: str, copy_of: Path | None) -> None:
        properties = self.properties
        if copy_of is not None:
            shutil.copyfile(copy_of, self.tmp)  # the current generation is never edited
        self.conn = sqlite3.connect(self.tmp)
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: R-tree inserts stay in memory
        self.conn.execute("PRAGMA synchronous = OFF")
        filters.register_all(self.conn)
        if copy_of is not None:
            current = read_metadata(self.conn, (0, 0))
            self.layout, self.previous = current.layout, current.info
            encoding.drop_rtree_triggers(self.conn, table=self.layout.table, geom=self.layout.geom)
            (top,) = self.conn.execute(
                f"SELECT max({quote(self.layout.fid)}) FROM {quote(self.layout.table)}"
            ).fetchone()
            self.next_fid = (top or 0) + 1
        else:
            self.layout = Layout.for_properties(collection_id, properties)
            encoding.create_core(self.conn)
            encoding.create_feature_table(
                self.conn,
                table=self.layout.table,
                fid=self.layout.fid,
                geom=self.layout.geom,
                geometry_type="GEOMETRY",
                columns=[(p.name, SQL_TYPES[p.type]) for p in properties],
            )
            encoding.create_rtree_table(self.conn, table=self.layout.table, geom=self.layout.geom)
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
        blobs = encoding.encode(batch.geometries)
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
        # we hold the writer turn: what a killed writer left is ours to clear or adopt
        recovery.recover_locked(self.store, info.id, keep=self.tmp)
        if self.create_only and self.final.exists():
            self.abort()
            raise Conflict(f"collection {info.id!r} exists already")
        version = self.store.catalog.latest_version(info.id) + 1
        info = info.model_copy(update={"version": version})
        actor = self.actor or Actor(operation="write")
        record = VersionRecord(
            collection=info.id,
            version=version,
            created=_utc_now(),
            entity=actor.entity,
            key_id=actor.key_id,
            operation=actor.operation,
            features=info.feature_count,
            location=f"{version}.gpkg",
            info=info.model_dump_json(),
            report=orjson.dumps(self.report).decode() if self.report else None,
        )
        self._finish(info, record)
        kept = self.store.version_path(info.id, version)
        kept.parent.mkdir(parents=True, exist_ok=True)
        os.link(self.tmp, kept)  # every generation stays readable as its version
        os.replace(self.tmp, self.final)
        _fsync_dir(self.final.parent)
        self.store.catalog.add_version(record)
        self._unlock()

    def _finish(self, info: CollectionInfo, record: VersionRecord) -> None:
        """Metadata, indexes and triggers; then the file is closed and on disk."""
        conn, layout = self.conn, self.layout
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
        for _position, prop in indexed(self.properties):
            conn.execute(
                f"CREATE INDEX IF NOT EXISTS {quote(f'{layout.table}_{prop.name}_index')}"
                f" ON {quote(layout.table)} ({quote(prop.name)})"  # rows of a value in fid order
            )
        encoding.create_rtree_triggers(conn, table=layout.table, fid=layout.fid, geom=layout.geom)
        # the version record rides in the file too: a writer killed after the rename over
        # the current file leaves it unrecorded, and recovery records it from this copy
        document = {
            "collection": info.model_dump(mode="json"),
            "layout": layout.__dict__,
            "record": {
                "created": record.created,
                "entity": record.entity,
                "key_id": record.key_id,
                "operation": record.operation,
                "report": self.report,
            },
        }
        encoding.write_metadata(conn, layout.table, orjson.dumps(document).decode())
        conn.commit()
        conn.close()
        with open(self.tmp, "rb+") as handle:
            os.fsync(handle.fileno())

    def abort(self) -> None:
        self.conn.close()
        self.tmp.unlink(missing_ok=True)
        self._unlock()


def _utc_now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

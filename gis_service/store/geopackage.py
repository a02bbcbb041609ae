"""The embedded store: one GeoPackage file per collection in a folder, no server.

A replace builds a new file beside the old one and renames it over: readers keep their
open file until they next look, so a half-written layer is never visible. Each thread
keeps read-only connections and reopens a file when its inode changes.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import orjson
import shapely

from ..domain.collection import CollectionInfo, PropertyDef, PropertyType, valid_collection_id
from ..domain.query import BBox, FeatureQuery
from ..domain.values import output_value, storage_datetime
from ..errors import CollectionNotFound, FeatureNotFound, IngestError
from . import gpkg_format
from .base import CollectionWriter, Feature, FeatureBatch, FeaturePage, Store
from .paging import run_page
from .sql import Where, build_where, quote

MMAP_BYTES = 1 << 30
SQL_TYPES = {
    PropertyType.STRING: "TEXT",
    PropertyType.INTEGER: "INTEGER",
    PropertyType.NUMBER: "DOUBLE",
    PropertyType.BOOLEAN: "BOOLEAN",
    PropertyType.DATE: "DATE",
    PropertyType.DATETIME: "DATETIME",
}


def bind_value(value: Any, kind: PropertyType) -> Any:
    """Domain value -> what a GeoPackage column holds (dates as ISO text, booleans as 0/1)."""
    if value is None:
        return None
    if kind is PropertyType.DATETIME and isinstance(value, datetime):
        return storage_datetime(value)
    if kind is PropertyType.DATE and isinstance(value, date):
        return value.isoformat()
    if kind is PropertyType.BOOLEAN:
        return int(bool(value))
    return value


def bind_column(values: list[Any], kind: PropertyType) -> list[Any]:
    """`bind_value` over a column, skipping the types SQLite takes as they are."""
    if kind in (PropertyType.STRING, PropertyType.INTEGER, PropertyType.NUMBER):
        return values
    return [bind_value(v, kind) for v in values]


@dataclass(frozen=True)
class Layout:
    """Physical names inside one file; fid and geometry columns dodge property names."""

    table: str
    fid: str
    geom: str

    @property
    def rtree(self) -> str:
        return quote(f"rtree_{self.table}_{self.geom}")

    @classmethod
    def for_properties(cls, table: str, properties: list[PropertyDef]) -> Layout:
        taken = {p.name.lower() for p in properties}
        if len(taken) != len(properties):
            raise IngestError("property names must differ in more than letter case")

        def free(name: str) -> str:
            while name.lower() in taken:
                name = f"gis_{name}"
            return name

        return cls(table=table, fid=free("fid"), geom=free("geom"))


class GpkgDialect:
    placeholder = "?"

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    @property
    def fid(self) -> str:
        return quote(self.layout.fid)

    def column(self, collection: CollectionInfo, name: str) -> str:
        return quote(name)

    def bind(self, value: Any, kind: PropertyType) -> Any:
        return bind_value(value, kind)

    def bbox_condition(self, bbox: BBox, collection: CollectionInfo) -> tuple[str, list[Any]]:
        g, fid, rtree = quote(self.layout.geom), self.fid, self.layout.rtree
        parts = bbox.parts()
        clauses, params = [], []
        if covers_most(parts, collection.bbox):
            # Most rows match: walking the table in id order finds a page at once, where
            # the R-tree would first list (and sort) nearly every id.
            for part in parts:
                clauses.append(f"gis_intersects_box({g}, ?, ?, ?, ?)")
                params += list(part)
            if collection.has_null_geometry:
                clauses.append(f"{g} IS NULL")
            return " OR ".join(clauses), params
        for minx, miny, maxx, maxy in parts:
            clauses.append(
                f"({fid} IN (SELECT id FROM {rtree} WHERE minx <= ? AND maxx >= ?"
                f" AND miny <= ? AND maxy >= ?) AND gis_intersects_box({g}, ?, ?, ?, ?))"
            )
            params += [maxx, minx, maxy, miny, minx, miny, maxx, maxy]
        if collection.has_null_geometry:  # answered by the partial index on null geometry
            clauses.append(
                f"{fid} IN (SELECT {fid} FROM {quote(self.layout.table)} WHERE {g} IS NULL)"
            )
        return " OR ".join(clauses), params


def covers_most(
    parts: list[tuple[float, float, float, float]], extent: tuple[float, float, float, float] | None
) -> bool:
    """Whether the boxes cover at least half of the layer's extent."""
    if extent is None:
        return True
    ex0, ey0, ex1, ey1 = extent
    area = (ex1 - ex0) * (ey1 - ey0)
    if area <= 0:
        return True
    covered = sum(
        max(0.0, min(maxx, ex1) - max(minx, ex0)) * max(0.0, min(maxy, ey1) - max(miny, ey0))
        for minx, miny, maxx, maxy in parts
    )
    return covered >= 0.5 * area


@dataclass
class _Opened:
    key: tuple[int, int]
    info: CollectionInfo
    layout: Layout


class _Rows:
    """RowSource over one open file."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        info: CollectionInfo,
        layout: Layout,
        query: FeatureQuery | None = None,
    ) -> None:
        self.conn, self.info, self.layout, self.query = conn, info, layout, query
        fid, geom = quote(layout.fid), quote(layout.geom)
        cols = ", ".join([fid, geom] + [quote(p.name) for p in info.properties])
        self.select_sql = f"SELECT {cols} FROM {quote(layout.table)}"
        self.converters: list[tuple[str, Callable[[Any], Any] | None]] = [
            (p.name, _converter(p.type)) for p in info.properties
        ]

    def feature(self, row: tuple[Any, ...]) -> Feature:
        props = {
            name: (conv(value) if conv is not None and value is not None else value)
            for (name, conv), value in zip(self.converters, row[2:], strict=True)
        }
        return Feature(fid=row[0], wkb=gpkg_format.wkb_of(row[1]), properties=props)

    def _where(self, where: Where, after: int | None, before: int | None) -> tuple[str, list]:
        sql, params = where.sql(), list(where.params)
        fid = quote(self.layout.fid)
        if after is not None:
            sql += f" AND {fid} > ?"
            params.append(after)
        if before is not None:
            sql += f" AND {fid} < ?"
            params.append(before)
        return sql, params

    def select(
        self,
        where: Where,
        *,
        after: int | None,
        before: int | None,
        descending: bool,
        limit: int,
        offset: int,
    ) -> list[Feature]:
        sql, params = self._where(where, after, before)
        order = "DESC" if descending else "ASC"
        rows = self.conn.execute(
            f"{self.select_sql} WHERE {sql} ORDER BY {quote(self.layout.fid)} {order}"
            " LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return [self.feature(r) for r in rows]

    def exists(self, where: Where, *, after: int | None, before: int | None) -> bool:
        sql, params = self._where(where, after, before)
        row = self.conn.execute(
            f"SELECT 1 FROM {quote(self.layout.table)} WHERE {sql} LIMIT 1", params
        ).fetchone()
        return row is not None

    def count(self, where: Where, cap: int) -> int | None:
        query = self.query
        if (
            query is not None
            and query.bbox is not None
            and not query.equals
            and query.interval is None
            and len(query.bbox.parts()) == 1
        ):
            return self._count_box(query.bbox.parts()[0], cap)
        (n,) = self.conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {quote(self.layout.table)}"
            f" WHERE {where.sql()} LIMIT ?)",
            [*where.params, cap + 1],
        ).fetchone()
        return None if n > cap else n

    def _count_box(self, box: tuple[float, float, float, float], cap: int) -> int | None:
        """R-tree entries inside the box count as they are (its bounds are rounded outward);
        only those straddling an edge are tested exactly. Never reads the whole layer."""
        minx, miny, maxx, maxy = box
        rtree, table = self.layout.rtree, quote(self.layout.table)
        fid, geom = quote(self.layout.fid), quote(self.layout.geom)
        inside = "minx >= ? AND maxx <= ? AND miny >= ? AND maxy <= ?"
        within = [minx, maxx, miny, maxy]
        (n,) = self.conn.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {rtree} WHERE {inside} LIMIT ?)",
            [*within, cap + 1],
        ).fetchone()
        (edge,) = self.conn.execute(
            f"SELECT count(*) FROM {table} WHERE {fid} IN (SELECT id FROM {rtree}"
            f" WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ? AND NOT ({inside}))"
            f" AND gis_intersects_box({geom}, ?, ?, ?, ?)",
            [maxx, minx, maxy, miny, *within, minx, miny, maxx, maxy],
        ).fetchone()
        n += edge
        if self.info.has_null_geometry:
            (nulls,) = self.conn.execute(
                f"SELECT count(*) FROM {table} WHERE {geom} IS NULL"
            ).fetchone()
            n += nulls
        return None if n > cap else n


def _converter(kind: PropertyType) -> Callable[[Any], Any] | None:
    if kind in (PropertyType.STRING, PropertyType.INTEGER):
        return None
    return lambda value: output_value(value, kind)


class GeoPackageStore(Store):
    # Reads are CPU-bound in-process work: one thread per process, more processes for more.
    concurrency = 1

    def __init__(self, folder: str | os.PathLike[str], *, count_cap: int = 100_000) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.count_cap = count_cap
        self._local = threading.local()
        self._opened: dict[str, _Opened] = {}

    def path(self, collection_id: str) -> Path:
        return self.folder / f"{collection_id}.gpkg"

    # -- reading ---------------------------------------------------------------------
    def _connect(self, collection_id: str) -> tuple[sqlite3.Connection, _Opened]:
        if not valid_collection_id(collection_id):
            raise CollectionNotFound(collection_id)
        path = self.path(collection_id)
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
        conn, opened = self._connect(collection.id)
        rows = _Rows(conn, opened.info, opened.layout, query)
        where = build_where(opened.info, query, GpkgDialect(opened.layout))
        return run_page(rows, opened.info, query, where, self.count_cap)

    def get_feature(self, *, collection: CollectionInfo, fid: int) -> Feature:
        conn, opened = self._connect(collection.id)
        rows = _Rows(conn, opened.info, opened.layout)
        row = conn.execute(
            f"{rows.select_sql} WHERE {quote(opened.layout.fid)} = ?", (fid,)
        ).fetchone()
        if row is None:
            raise FeatureNotFound(collection.id, str(fid))
        return rows.feature(row)

    # -- writing ---------------------------------------------------------------------
    def replace_collection(
        self, *, collection_id: str, properties: list[PropertyDef]
    ) -> CollectionWriter:
        if not valid_collection_id(collection_id):
            raise IngestError(f"collection id {collection_id!r} is not allowed")
        return _GpkgWriter(self, collection_id, properties)

    def delete_collection(self, *, collection_id: str) -> None:
        path = self.path(collection_id)
        if not valid_collection_id(collection_id) or not path.exists():
            raise CollectionNotFound(collection_id)
        path.unlink()

    def close(self) -> None:
        for _key, conn in (getattr(self._local, "conns", None) or {}).values():
            conn.close()
        self._local.conns = {}


def _read_metadata(conn: sqlite3.Connection, key: tuple[int, int]) -> _Opened:
    document = orjson.loads(gpkg_format.read_metadata(conn))
    info = CollectionInfo.model_validate(document["collection"])
    return _Opened(key=key, info=info, layout=Layout(**document["layout"]))


class _GpkgWriter(CollectionWriter):
    def __init__(self, store: GeoPackageStore, collection_id: str, properties: list[PropertyDef]):
        self.final = store.path(collection_id)
        self.tmp = store.folder / f".{collection_id}.{uuid.uuid4().hex}.tmp"
        self.properties = properties
        self.layout = Layout.for_properties(collection_id, properties)
        self.conn = sqlite3.connect(self.tmp)
        self.conn.execute("PRAGMA journal_mode = OFF")
        self.conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: R-tree inserts stay in memory
        self.conn.execute("PRAGMA synchronous = OFF")
        gpkg_format.register_functions(self.conn)
        gpkg_format.create_core(self.conn)
        gpkg_format.create_feature_table(
            self.conn,
            table=self.layout.table,
            fid=self.layout.fid,
            geom=self.layout.geom,
            geometry_type="GEOMETRY",
            columns=[(p.name, SQL_TYPES[p.type]) for p in properties],
        )
        gpkg_format.create_rtree_table(self.conn, table=self.layout.table, geom=self.layout.geom)
        names = [self.layout.fid, self.layout.geom] + [p.name for p in properties]
        marks = ", ".join("?" * len(names))
        self.has_z = False
        self.insert_sql = (
            f"INSERT INTO {quote(self.layout.table)} ({', '.join(map(quote, names))})"
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
            f"INSERT INTO {self.layout.rtree} VALUES (?, ?, ?, ?, ?)",
            (
                (fid, b[0], b[2], b[1], b[3])
                for fid, b, keep in zip(fids, bounds.tolist(), present.tolist(), strict=True)
                if keep
            ),
        )

    def commit(self, info: CollectionInfo) -> None:
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
                f"CREATE INDEX {quote(layout.table + '_null_geometry')} ON {quote(layout.table)}"
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
        os.replace(self.tmp, self.final)
        _fsync_dir(self.final.parent)

    def abort(self) -> None:
        self.conn.close()
        self.tmp.unlink(missing_ok=True)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

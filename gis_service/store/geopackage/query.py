"""How the GeoPackage store asks SQLite: physical layout, SQL dialect and row source."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import orjson

from ...domain.collection import CollectionInfo, PropertyDef, PropertyType
from ...domain.query import BBox, FeatureQuery
from ...domain.values import display_datetime_text, storage_datetime
from ...errors import IngestError
from ..base import Feature
from ..rows import Plan, SqlRows
from ..sql import Where, quote
from . import encoding
from .filters import GpkgFilterDialect


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


class GpkgDialect(GpkgFilterDialect):
    placeholder = "?"

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    @property
    def fid(self) -> str:
        return quote(self.layout.fid)

    def column(self, collection: CollectionInfo, name: str) -> str:
        return quote(name)

    def sort_column(self, collection: CollectionInfo, name: str) -> str:
        return quote(name)  # BINARY collation: UTF-8 byte order is code point order

    def bind(self, value: Any, kind: PropertyType) -> Any:
        return bind_value(value, kind)

    def bbox_condition(
        self, bbox: BBox, collection: CollectionInfo, exact: bool = True
    ) -> tuple[str, list[Any]]:
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
            candidates = (
                f"{fid} IN (SELECT id FROM {rtree} WHERE minx <= ? AND maxx >= ?"
                f" AND miny <= ? AND maxy >= ?)"
            )
            params += [maxx, minx, maxy, miny]
            if not exact:  # the R-tree's candidates (its float32 boxes round outwards)
                clauses.append(f"({candidates})")
                continue
            clauses.append(f"({candidates} AND gis_intersects_box({g}, ?, ?, ?, ?))")
            params += [minx, miny, maxx, maxy]
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


class GpkgRows(SqlRows):
    """Rows of one open file; values come back in the canonical text SQLite keeps."""

    def __init__(
        self, info: CollectionInfo, layout: Layout, query: FeatureQuery | None = None
    ) -> None:
        columns = ", ".join(
            [quote(layout.fid), quote(layout.geom)] + [quote(p.name) for p in info.properties]
        )
        super().__init__(
            table=quote(layout.table), fid=quote(layout.fid), columns=columns, placeholder="?"
        )
        self.info, self.layout, self.query = info, layout, query
        self.names = [p.name for p in info.properties]
        self.conversions = [
            (p.name, conv) for p in info.properties if (conv := _CONVERSIONS.get(p.type))
        ]

    def feature(self, row: tuple[Any, ...]) -> Feature:
        props = dict(zip(self.names, row[2:], strict=True))
        for name, convert in self.conversions:
            value = props[name]
            if value is not None:
                props[name] = convert(value)
        return Feature(fid=row[0], wkb=encoding.wkb_of(row[1]), properties=props)

    def count(self, where: Where, cap: int) -> Plan[int | None]:
        query = self.query
        if (
            query is not None
            and query.bbox is not None
            and not query.equals
            and query.interval is None
            and query.filter is None
            and len(query.bbox.parts()) == 1
        ):
            return (yield from self._count_box(query.bbox.parts()[0], cap))
        return (yield from super().count(where, cap))

    def _count_box(self, box: tuple[float, float, float, float], cap: int) -> Plan[int | None]:
        """R-tree entries inside the box count as they are (its bounds are rounded outward);
        only those straddling an edge are tested exactly. Never reads the whole layer."""
        minx, miny, maxx, maxy = box
        rtree, table = self.layout.rtree, quote(self.layout.table)
        fid, geom = quote(self.layout.fid), quote(self.layout.geom)
        inside = "minx >= ? AND maxx <= ? AND miny >= ? AND maxy <= ?"
        within = [minx, maxx, miny, maxy]
        ((n,),) = yield (
            f"SELECT count(*) FROM (SELECT 1 FROM {rtree} WHERE {inside} LIMIT ?)",
            [*within, cap + 1],
        )
        ((edge,),) = yield (
            f"SELECT count(*) FROM {table} WHERE {fid} IN (SELECT id FROM {rtree}"
            f" WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ? AND NOT ({inside}))"
            f" AND gis_intersects_box({geom}, ?, ?, ?, ?)",
            [maxx, minx, maxy, miny, *within, minx, miny, maxx, maxy],
        )
        n += edge
        if self.info.has_null_geometry:
            ((nulls,),) = yield f"SELECT count(*) FROM {table} WHERE {geom} IS NULL", []
            n += nulls
        return None if n > cap else n


# Text columns hold canonical forms already (see bind_value); only these need a touch.
_CONVERSIONS: dict[PropertyType, Callable[[Any], Any]] = {
    PropertyType.BOOLEAN: bool,
    PropertyType.DATETIME: display_datetime_text,
    PropertyType.DATE: lambda value: value if isinstance(value, str) else str(value)[:10],
}


@dataclass
class Opened:
    """One open generation: its file identity (inode, mtime), metadata and layout."""

    key: tuple[int, int]
    info: CollectionInfo
    layout: Layout


def read_metadata(conn: sqlite3.Connection, key: tuple[int, int]) -> Opened:
    document = orjson.loads(encoding.read_metadata(conn))
    info = CollectionInfo.model_validate(document["collection"])
    return Opened(key=key, info=info, layout=Layout(**document["layout"]))

"""How the PostGIS store asks PostgreSQL: positional columns, SQL dialect and row source."""

from __future__ import annotations

from typing import Any

from ..domain.collection import CollectionInfo, PropertyType
from ..domain.query import BBox
from ..domain.values import output_value
from .base import Feature
from .pg_filters import PgFilterDialect
from .rows import SqlRows
from .sql import quote


def column_name(index: int) -> str:
    return f"p{index}"


class PgDialect(PgFilterDialect):
    placeholder = "%s"
    fid = '"fid"'

    def __init__(self, info: CollectionInfo) -> None:
        self.index = {p.name: i for i, p in enumerate(info.properties)}

    def column(self, collection: CollectionInfo, name: str) -> str:
        return quote(column_name(self.index[name]))

    def sort_column(self, collection: CollectionInfo, name: str) -> str:
        """Text orders by code point, as SQLite's BINARY collation does."""
        column = self.column(collection, name)
        prop = collection.prop(name)
        return f'{column} COLLATE "C"' if prop and prop.type is PropertyType.STRING else column

    def bind(self, value: Any, kind: PropertyType) -> Any:
        return value

    def bbox_condition(self, bbox: BBox, collection: CollectionInfo) -> tuple[str, list[Any]]:
        clauses, params = [], []
        for part in bbox.parts():
            # box2d -> geometry gives a point or line for a degenerate box, which (unlike
            # ST_MakeEnvelope's empty-area polygon) intersects what it touches.
            clauses.append(
                'ST_Intersects("geom", ST_SetSRID(ST_MakeBox2D(ST_MakePoint(%s, %s),'
                " ST_MakePoint(%s, %s))::geometry, 4326))"
            )
            params += list(part)
        if collection.has_null_geometry:  # answered by the partial index on null geometry
            clauses.append('"geom" IS NULL')
        return " OR ".join(clauses), params


class PgRows(SqlRows):
    """Rows of one collection table; typed values from psycopg."""

    def __init__(self, table: str, info: CollectionInfo) -> None:
        cols = ['"fid"', 'ST_AsBinary("geom")'] + [
            quote(column_name(i)) for i in range(len(info.properties))
        ]
        super().__init__(table=table, fid='"fid"', columns=", ".join(cols), placeholder="%s")
        self.names = [p.name for p in info.properties]
        # Text and integers come from psycopg as GeoJSON wants them: only these are touched.
        self.converted = [(p.name, p.type) for p in info.properties if p.type not in _AS_THEY_COME]

    def feature(self, row: tuple[Any, ...]) -> Feature:
        props = dict(zip(self.names, row[2:], strict=True))
        for name, kind in self.converted:
            value = props[name]
            if value is not None:
                props[name] = output_value(value, kind)
        wkb = bytes(row[1]) if row[1] is not None else None
        return Feature(fid=row[0], wkb=wkb, properties=props)


_AS_THEY_COME = frozenset({PropertyType.STRING, PropertyType.INTEGER})

"""How the PostGIS store asks PostgreSQL: positional columns, SQL dialect and row source."""

from __future__ import annotations

from typing import Any

from ...domain.collection import CollectionInfo, PropertyType
from ...domain.query import BBox
from ...domain.values import output_value
from ..base import Feature
from ..rows import SqlRows
from ..sql import quote
from .filters import PgFilterDialect


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

    def bbox_condition(
        self, bbox: BBox, collection: CollectionInfo, exact: bool = True
    ) -> tuple[str, list[Any]]:
        """The GiST index finds the candidates (`&&`); a candidate whose bounding box lies
        inside the box shrunk by a margin intersects it for certain (`@`, the box already
        in hand: a tenth of the CPU of the exact test); only the others are tested
        exactly (`_ST_Intersects`, without the index condition `ST_Intersects` would add
        a second time). The margin, 1e-6 of the largest coordinate, is many times the
        float4 rounding of index boxes, so `@` never accepts a feature outside the box."""
        clauses, params = [], []
        for part in bbox.parts():
            minx, miny, maxx, maxy = part
            margin = 1e-6 * max(1.0, *(abs(c) for c in part))
            if not exact:  # the candidates: the caller clips them
                clauses.append(f'"geom" && {_BOX}')
                params += [*part]
            elif maxx - minx > 2 * margin and maxy - miny > 2 * margin:
                clauses.append(
                    f'("geom" && {_BOX} AND ("geom" @ {_BOX} OR _ST_Intersects("geom", {_BOX})))'
                )
                inner = [minx + margin, miny + margin, maxx - margin, maxy - margin]
                params += [*part, *inner, *part]
            else:  # a line or point: nothing fits inside, test every candidate exactly
                clauses.append(f'("geom" && {_BOX} AND _ST_Intersects("geom", {_BOX}))')
                params += [*part, *part]
        if collection.has_null_geometry:  # answered by the partial index on null geometry
            clauses.append('"geom" IS NULL')
        return " OR ".join(clauses), params


# box2d -> geometry gives a point or line for a degenerate box, which (unlike
# ST_MakeEnvelope's empty-area polygon) intersects what it touches.
_BOX = "ST_SetSRID(ST_MakeBox2D(ST_MakePoint(%s, %s), ST_MakePoint(%s, %s))::geometry, 4326)"


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

    #: The selection has a box: its candidates come from the spatial index in no useful order.
    spatial = False

    def page_sql(self, where_sql: str, order: str) -> str:
        """With a box, the candidates are ordered by id alone and only the page's rows are
        read whole: sorting ~2,000 full rows to keep 101 was a third of the database's
        work for a ~1 km box (bench W1)."""
        if not self.spatial:
            return super().page_sql(where_sql, order)
        return (
            f"{self.select_sql} WHERE {self.fid} = ANY(ARRAY(SELECT {self.fid} FROM {self.table}"
            f" WHERE {where_sql} ORDER BY {order} LIMIT %s OFFSET %s)) ORDER BY {order}"
        )

    def feature(self, row: tuple[Any, ...]) -> Feature:
        props = dict(zip(self.names, row[2:], strict=True))
        for name, kind in self.converted:
            value = props[name]
            if value is not None:
                props[name] = output_value(value, kind)
        wkb = bytes(row[1]) if row[1] is not None else None
        return Feature(fid=row[0], wkb=wkb, properties=props)


_AS_THEY_COME = frozenset({PropertyType.STRING, PropertyType.INTEGER})

"""KML 2.2 downloads, written chunk by chunk: one Placemark per feature.

Properties travel as typed `ExtendedData/SchemaData` (declared once in a `Schema`), which
Google Earth, QGIS and GDAL all read. KML coordinates are always CRS84 (OGC KML 2.2), so
no `crs` applies. Text is escaped and characters XML 1.0 forbids are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
import shapely

from ..domain.collection import PropertyType
from ..store.streaming import ExportBatch
from .selection import Export

NAMESPACE = "http://www.opengis.net/kml/2.2"
_KML_TYPES = {
    PropertyType.STRING: "string",
    PropertyType.INTEGER: "int",
    PropertyType.NUMBER: "double",
    PropertyType.BOOLEAN: "bool",
    PropertyType.DATE: "string",
    PropertyType.DATETIME: "string",
}
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"})


def escape(text: str) -> str:
    return _NOT_XML.sub("", text).translate(_ESCAPES)


def kml(batches: Iterable[ExportBatch], export: Export) -> Iterator[bytes]:
    info = export.info
    schema = escape(info.id)
    # Placemark ids are XML ids: they must not start with a digit.
    prefix = escape(info.id if info.id[0].isalpha() else f"_{info.id}")
    fields = "".join(
        f'<SimpleField name="{escape(p.name)}" type="{_KML_TYPES[p.type]}"></SimpleField>'
        for p in export.properties
    )
    yield (
        f'<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="{NAMESPACE}"><Document>'
        f"<name>{escape(info.title)}</name>"
        f'<Schema name="{schema}" id="{schema}">{fields}</Schema>'
        f"<Folder><name>{schema}</name>\n"
    ).encode()
    names = [escape(n) for n in export.names]
    for batch in batches:
        geometries = (
            [_geometry(g) for g in _decode(batch)] if export.geometry else [""] * len(batch)
        )
        rows = zip(*export.values(batch), strict=True) if names else [()] * len(batch)
        parts = []
        for fid, geometry, row in zip(batch.fids, geometries, rows, strict=True):
            data = "".join(
                f'<SimpleData name="{name}">{_text(value)}</SimpleData>'
                for name, value in zip(names, row, strict=True)
                if value is not None
            )
            parts.append(
                f'<Placemark id="{prefix}.{fid}"><ExtendedData><SchemaData schemaUrl="#{schema}">'
                f"{data}</SchemaData></ExtendedData>{geometry}</Placemark>\n"
            )
        yield "".join(parts).encode()
    yield b"</Folder></Document></kml>\n"


def _decode(batch: ExportBatch) -> np.ndarray:
    """The stored CRS84 geometries: KML never takes another CRS."""
    return shapely.from_wkb(np.array(batch.wkbs, dtype=object))


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(value) if isinstance(value, str) else repr(value)


def _coordinates(geometry: shapely.Geometry) -> str:
    points = shapely.get_coordinates(geometry, include_z=bool(shapely.has_z(geometry))).tolist()
    return " ".join(",".join(repr(v) for v in point) for point in points)


def _geometry(geometry: shapely.Geometry | None) -> str:
    if geometry is None or geometry.is_empty:
        return ""
    kind = geometry.geom_type
    if kind == "Point":
        return f"<Point><coordinates>{_coordinates(geometry)}</coordinates></Point>"
    if kind in ("LineString", "LinearRing"):
        return f"<{kind}><coordinates>{_coordinates(geometry)}</coordinates></{kind}>"
    if kind == "Polygon":
        outer = _ring(geometry.exterior, "outer")
        inner = "".join(_ring(ring, "inner") for ring in geometry.interiors)
        return f"<Polygon>{outer}{inner}</Polygon>"
    members = "".join(_geometry(part) for part in geometry.geoms)
    return f"<MultiGeometry>{members}</MultiGeometry>"


def _ring(ring: shapely.LinearRing, which: str) -> str:
    return (
        f"<{which}BoundaryIs><LinearRing><coordinates>{_coordinates(ring)}</coordinates>"
        f"</LinearRing></{which}BoundaryIs>"
    )

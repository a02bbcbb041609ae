"""CQL2 literals -> Python values: numbers, dates, timestamps and geometries (in CRS84).

Everything a client can make expensive or undefined is refused here with a 400 naming
`filter`: non-finite numbers, too many vertices, invalid or out-of-range geometries.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape

from ...errors import InvalidParameter
from ..collection import GEOMETRY_TYPES
from ..values import as_utc

MAX_VERTICES = 10_000
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def bad(detail: str) -> InvalidParameter:
    return InvalidParameter("filter", detail)


def number(value: float | int) -> int | float:
    """A finite number; integral values within 2^53 become ints (cql2-text gives floats)."""
    if isinstance(value, int):
        if -(2**63) < value < 2**63:
            return value
        value = float(value)
    if not math.isfinite(value):
        raise bad("numbers must be finite (no NaN, Infinity or values beyond 1e308)")
    if value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def parse_date(text: Any) -> date:
    if not isinstance(text, str) or not _DATE.match(text):
        raise bad(f"{text!r} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise bad(f"{text!r} is not a valid date") from exc


def parse_timestamp(text: Any) -> datetime:
    if not isinstance(text, str) or not _TIMESTAMP.match(text):
        raise bad(f"{text!r} is not an RFC 3339 timestamp (e.g. 2022-04-16T10:13:19Z)")
    try:
        return as_utc(datetime.fromisoformat(text.upper()))
    except ValueError as exc:
        raise bad(f"{text!r} is not a valid timestamp") from exc


def parse_instant(text: str) -> date | datetime:
    """A bare string in an interval: a date or a timestamp, by its form."""
    return parse_date(text) if _DATE.match(text) else parse_timestamp(text)


class Geometries:
    """Builds geometry literals, counting vertices over the whole filter."""

    def __init__(self, to_crs84: Callable[[np.ndarray], np.ndarray] | None = None) -> None:
        self.vertices = 0
        self.to_crs84 = to_crs84

    def _count(self, coords: Any, depth: int) -> None:
        if depth > 4 or not isinstance(coords, list):
            raise bad("geometry coordinates are not nested as GeoJSON requires")
        if coords and not isinstance(coords[0], list):
            if len(coords) not in (2, 3) or not all(
                isinstance(c, int | float) and not isinstance(c, bool) for c in coords
            ):
                raise bad("a position must be 2 or 3 numbers")
            if not all(math.isfinite(c) for c in coords):
                raise bad("coordinates must be finite numbers")
            self.vertices += 1
            if self.vertices > MAX_VERTICES:
                raise bad(f"geometries may have at most {MAX_VERTICES} vertices in total")
            return
        for item in coords:
            self._count(item, depth + 1)

    def geojson(self, node: dict[str, Any]) -> Any:
        return self._finish(self._build(node))

    def _build(self, node: dict[str, Any]) -> Any:
        kind = node.get("type")
        if kind not in GEOMETRY_TYPES:
            raise bad(f"unknown geometry type {kind!r}")
        if kind == "GeometryCollection":
            members = node.get("geometries")
            if not isinstance(members, list):
                raise bad("a GeometryCollection needs a 'geometries' list")
            if not all(isinstance(m, dict) for m in members):
                raise bad("GeometryCollection members must be geometries")
            return shapely.GeometryCollection([self._build(m) for m in members])
        self._count(node.get("coordinates"), 0)
        try:
            geom = shape({"type": kind, "coordinates": node["coordinates"]})
        except (
            ValueError,
            TypeError,
            IndexError,
            AttributeError,
            shapely.errors.GEOSException,
        ) as exc:
            raise bad(f"not a valid {kind}: {exc}") from exc
        return geom

    def bbox(self, values: Any) -> Any:
        if not isinstance(values, list) or len(values) not in (4, 6):
            raise bad("BBOX needs 4 (or 6) numbers")
        numbers = [number(v) if isinstance(v, int | float) else None for v in values]
        if any(n is None or isinstance(v, bool) for n, v in zip(numbers, values, strict=True)):
            raise bad("BBOX values must be numbers")
        if len(numbers) == 6:
            minx, miny, _, maxx, maxy, _ = numbers
        else:
            minx, miny, maxx, maxy = numbers
        if miny > maxy:
            raise bad("BBOX: the lower latitude is above the upper one")
        self.vertices += 4
        if minx > maxx and self.to_crs84 is None:  # crosses the antimeridian
            geom = shapely.MultiPolygon(
                [shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)]
            )
        else:
            geom = shapely.box(minx, miny, maxx, maxy)
        return self._finish(geom)

    def _finish(self, geom: Any) -> Any:
        geom = shapely.force_2d(geom)
        if self.to_crs84 is not None:
            geom = self.to_crs84(np.array([geom], dtype=object))[0]
        if geom.is_empty:
            raise bad("empty geometries cannot be compared")
        minx, miny, maxx, maxy = geom.bounds
        if minx < -180 or maxx > 180 or miny < -90 or maxy > 90:
            raise bad(
                "coordinates are outside longitude -180..180, latitude -90..90"
                " (CRS84 is longitude first; give filter-crs for other systems)"
            )
        if not geom.is_valid:
            raise bad(f"invalid geometry: {shapely.is_valid_reason(geom)}")
        return geom

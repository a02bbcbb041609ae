"""GeoJSON geometries, written one way for every answer (pages, single features, downloads).

Points, by far the most common rows, are handed to orjson as coordinate lists: orjson
writes each double in its shortest round-trip form, exactly as Python's `repr` digits.
A batch of plain 2D little-endian point WKB (what both stores keep) is decoded in one
numpy pass without creating Shapely objects. Every other geometry is written by GEOS
(Shapely's vectorised GeoJSON writer) as a pre-serialised fragment.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import orjson
import shapely

#: A geometry as orjson writes it: a point's mapping, GEOS text, or null.
GeometryValue = dict[str, Any] | orjson.Fragment | None

_POINT_WKB = np.dtype([("order", "u1"), ("type", "<u4"), ("x", "<f8"), ("y", "<f8")])
_POINT_TYPE_ID = 0
_POINT_STRUCT = struct.Struct("<BIdd")
_FEW = 8


def from_wkbs(wkbs: Sequence[bytes | None]) -> list[GeometryValue]:
    """Geometries from WKB, the points among them without Shapely when all are plain."""
    coordinates = _plain_points(wkbs)
    if coordinates is not None:
        return [{"type": "Point", "coordinates": c} for c in coordinates]
    return from_geometries(shapely.from_wkb(np.array(wkbs, dtype=object)))


def from_geometries(geometries: np.ndarray) -> list[GeometryValue]:
    """Shapely geometries (None allowed): points as coordinates, the rest through GEOS."""
    out: list[GeometryValue] = [None] * len(geometries)
    kinds = shapely.get_type_id(geometries)
    points = (kinds == _POINT_TYPE_ID) & ~shapely.is_empty(geometries)
    points &= ~shapely.has_m(geometries)  # GEOS decides how M is shown: keep its text
    for with_z in (False, True):
        chosen = np.flatnonzero(points & (shapely.has_z(geometries) == with_z))
        coords = shapely.get_coordinates(geometries[chosen], include_z=with_z).tolist()
        for index, c in zip(chosen.tolist(), coords, strict=True):
            out[index] = {"type": "Point", "coordinates": c}
    others = np.flatnonzero((kinds >= 0) & ~points)
    if len(others):
        texts = shapely.to_geojson(geometries[others]).tolist()
        for index, text in zip(others.tolist(), texts, strict=True):
            out[index] = orjson.Fragment(text)
    return out


def _plain_points(wkbs: Sequence[bytes | None]) -> list[list[float]] | None:
    """[x, y] of each geometry when every one is a 2D little-endian non-empty point."""
    if not wkbs:
        return []
    try:
        if set(map(len, wkbs)) != {_POINT_WKB.itemsize}:
            return None
    except TypeError:  # a missing geometry
        return None
    if len(wkbs) <= _FEW:  # numpy's per-call overhead outweighs a handful of unpacks
        points = [_POINT_STRUCT.unpack(wkb) for wkb in wkbs]
        if any(p[0] != 1 or p[1] != 1 or p[2] != p[2] or p[3] != p[3] for p in points):
            return None  # another layout, or an empty point (NaN coordinates)
        return [[p[2], p[3]] for p in points]
    records = np.frombuffer(b"".join(wkbs), dtype=_POINT_WKB)  # type: ignore[arg-type]
    if not ((records["order"] == 1).all() and (records["type"] == 1).all()):
        return None
    xy = np.column_stack((records["x"], records["y"]))
    if np.isnan(xy).any():  # empty points
        return None
    return xy.tolist()

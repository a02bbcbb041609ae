"""JSON and GeoJSON bytes, built fast: orjson, with geometries from `geojson.geometry`."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import orjson
import shapely

from ...domain.crs import ServiceCrs, UntransformableGeometry
from ...errors import InvalidParameter
from ...geojson import geometry
from ...geojson.geometry import GeometryValue
from ...store.base import Feature


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def geometry_fragments(
    features: list[Feature], crs: ServiceCrs | None = None
) -> list[GeometryValue]:
    """Each feature's geometry as orjson writes it (`geojson.geometry`: one writer for all).

    With a `crs` other than CRS84 the stored geometries are transformed into it first
    (the `crs` parameter); one no CRS coordinate can express is a 400 naming the feature.
    """
    if crs is None or crs.is_crs84:
        return geometry.from_wkbs([f.wkb for f in features])
    geometries = shapely.from_wkb(np.array([f.wkb for f in features], dtype=object))
    try:
        geometries = crs.from_crs84(geometries)
    except UntransformableGeometry as exc:
        fid = features[exc.index].fid
        raise InvalidParameter(
            "crs", f"feature {fid} lies outside the area where {crs.uri} is defined"
        ) from None
    return geometry.from_geometries(geometries)


def feature_dict(feature: Feature, geometry: GeometryValue) -> dict[str, Any]:
    return {
        "type": "Feature",
        "id": feature.fid,
        "geometry": geometry,
        "properties": feature.properties,
    }


def feature_etag(feature: dict[str, Any]) -> str:
    """A strong entity tag of a feature's content (id, geometry, properties; not links).

    Both stores serialise a feature to the same bytes, so a tag stays valid across them.
    """
    return '"' + hashlib.sha256(dumps(feature)).hexdigest()[:32] + '"'


def etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match: `*` or any listed tag (weak comparison)."""
    if not header:
        return False
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return "*" in tags or etag in tags

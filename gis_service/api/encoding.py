"""JSON and GeoJSON bytes, built fast: orjson, and Shapely's vectorised GeoJSON writer."""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import orjson
import shapely

from ..domain.crs import ServiceCrs, UntransformableGeometry
from ..errors import InvalidParameter
from ..store.base import Feature


def dumps(value: Any) -> bytes:
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


def geometry_fragments(
    features: list[Feature], crs: ServiceCrs | None = None
) -> list[orjson.Fragment | None]:
    """Each feature's geometry as pre-serialised GeoJSON, decoded in one vectorised pass.

    With a `crs` other than CRS84 the stored geometries are transformed into it first
    (the `crs` parameter); one no CRS coordinate can express is a 400 naming the feature.
    """
    wkbs = np.array([f.wkb for f in features], dtype=object)
    geometries = shapely.from_wkb(wkbs)
    if crs is not None and not crs.is_crs84:
        try:
            geometries = crs.from_crs84(geometries)
        except UntransformableGeometry as exc:
            fid = features[exc.index].fid
            raise InvalidParameter(
                "crs", f"feature {fid} lies outside the area where {crs.uri} is defined"
            ) from None
    texts = shapely.to_geojson(geometries)
    return [None if t is None else orjson.Fragment(t) for t in texts.tolist()]


def feature_dict(feature: Feature, geometry: orjson.Fragment | None) -> dict[str, Any]:
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

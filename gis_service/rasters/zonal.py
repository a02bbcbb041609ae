"""Zonal statistics of a raster band over polygons, weighted by how much of each cell a
polygon covers (exactextract: exact cell coverage fractions, not cell centres).

For each polygon: the coverage-weighted mean, the minimum and maximum of the cells it
touches, `count` (the valid cells' covered fractions summed: a cell half inside counts
one half) and, given a threshold, the shares of the polygon's valid area at or above it
and below it. Nodata and NaN cells take no part; a polygon over none has nulls and a
count of 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import orjson
import shapely
from pyproj import CRS, Transformer

STATISTICS = ("mean", "min", "max", "count")
#: Cells covered by less than this fraction are left out: the slivers a polygon's edge
#: picks up from rounding when it is projected into the raster's CRS.
MIN_COVERAGE = 1e-6


def zonal_stats(
    ds,
    geoms: np.ndarray,
    band: int = 1,
    threshold: float | None = None,
    crs: str = "OGC:CRS84",
    progress: Callable[[float, str], None] | None = None,
) -> dict[str, np.ndarray]:
    """Per polygon of `geoms` (Shapely, in `crs`): mean, min, max, count, and with a
    threshold share_above and share_below (fractions 0-1), NaN where undefined."""
    from exactextract import exact_extract
    from exactextract.feature import JSONFeatureSource
    from exactextract.raster import RasterioRasterSource

    n = len(geoms)
    names = [*STATISTICS, *(("share_above", "share_below") if threshold is not None else ())]
    out = {name: np.full(n, np.nan) for name in names}
    out["count"] = np.zeros(n)
    if not n:
        return out
    projected = _to_raster_crs(geoms, crs, ds)
    features = [_feature(i, g) for i, g in enumerate(projected) if not shapely.is_empty(g)]
    if not features:
        return out
    ops: list[Any] = [f"{name}(min_coverage_frac={MIN_COVERAGE})" for name in STATISTICS]
    if threshold is not None:
        ops.append(_share_above(threshold))
    results = exact_extract(
        RasterioRasterSource(ds, band),
        JSONFeatureSource(features),
        ops,
        include_cols=["i"],
        output="geojson",
        progress=progress or False,
    )
    for feature in results:
        props = feature["properties"]
        i = int(props["i"])
        for name in STATISTICS:
            value = props.get(name)
            out[name][i] = np.nan if value is None else float(value)
        if threshold is not None and out["count"][i] > 0:
            out["share_above"][i] = float(props["share_above"])
            out["share_below"][i] = 1.0 - out["share_above"][i]
    empty = out["count"] <= 0
    for name in ("mean", "min", "max"):
        out[name][empty] = np.nan
    return out


def _share_above(threshold: float) -> Callable[[Any, Any], float]:
    """The covered share of valid cells at or above `threshold` (exactextract passes every
    touched cell's value, nodata masked, and coverage fraction)."""

    def share_above(values, coverage) -> float:
        valid = ~np.ma.getmaskarray(values)
        data = np.ma.getdata(values)
        valid &= ~np.isnan(data) if data.dtype.kind == "f" else valid
        total = float(np.sum(coverage[valid]))
        if total <= 0:
            return float("nan")
        return float(np.sum(coverage[valid & (data >= threshold)]) / total)

    return share_above


def _to_raster_crs(geoms: np.ndarray, crs: str, ds) -> np.ndarray:
    raster_crs = CRS.from_wkt(ds.crs.to_wkt())
    if CRS.from_user_input(crs).equals(raster_crs):
        return geoms
    transformer = Transformer.from_crs(crs, raster_crs, always_xy=True)
    return shapely.transform(
        geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1]))
    )


def _feature(i: int, geom) -> dict[str, Any]:
    return {
        "type": "Feature",
        "properties": {"i": i},
        "geometry": orjson.loads(shapely.to_geojson(geom)),
    }

"""`coverage-gaps` over a raster: the features where a band is below a threshold (or has
no value), e.g. schools where the signal is under -90 dBm, each with the band's value
there and the geodesic distance to the nearest covered cell (`rasters.reach`).

A line or polygon is judged at its representative point, as `raster-values` samples it.
The covered mask is read once per run, however many features stream past.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ..domain.collection import PropertyType
from .inputs import Layer, Source, batches
from .limits import Budget
from .raster_inputs import RasterSource
from .results import Result, free, numbers, prop


def run(store: Any, values: dict[str, Any], budget: Budget) -> Result:
    from ..rasters import open_cog
    from ..rasters.reach import Coverage

    raster: RasterSource = values["raster"]
    features: Source = values["features"]
    threshold: float = values["threshold"]
    band = raster.band(values["band"])
    names = [p.name for p in features.properties]
    parts: list[tuple[Layer, np.ndarray, np.ndarray]] = []
    cell_m = 0.0
    with open_cog(store, raster.collection, raster.version) as ds:
        coverage = Coverage(ds, band, threshold)
        for layer in batches(store, features, budget, names, held=False):
            budget.check()
            at = layer.geoms
            other = shapely.get_type_id(at) != 0
            if other.any():
                at = at.copy()
                at[other] = shapely.point_on_surface(at[other])
            found = coverage.at(shapely.get_x(at), shapely.get_y(at))
            cell_m = found.cell_m
            out = np.flatnonzero(~found.covered)
            if len(out):
                budget.hold(len(out))
                parts.append((layer.take(out), found.value[out], found.distance_m[out]))
    assert raster.info.raster is not None
    band_name = raster.info.raster.bands[band - 1].name
    taken: set[str] = set(names)
    fixed = {key: free(key, taken) for key in ("feature_id", band_name, "distance_m")}
    joined = Layer.join([p[0] for p in parts], names)
    columns: dict[str, list[Any]] = {n: joined.columns[n] for n in names}
    columns[fixed["feature_id"]] = joined.ids.tolist()
    columns[fixed[band_name]] = numbers(_cat([p[1] for p in parts]))
    columns[fixed["distance_m"]] = numbers(_cat([p[2] for p in parts]))
    properties = [
        *[prop(p.name, p.type) for p in features.properties],
        prop(fixed["feature_id"], PropertyType.INTEGER),
        prop(fixed[band_name], PropertyType.NUMBER),
        prop(fixed["distance_m"], PropertyType.NUMBER),
    ]
    summary = {
        "raster": raster.provenance(),
        "band": band_name,
        "threshold": threshold,
        "search_cell_m": round(cell_m, 3),
    }
    return Result(joined.geoms, columns, properties, summary)


def _cat(arrays: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(arrays) if arrays else np.zeros(0)

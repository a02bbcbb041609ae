"""`raster-values`: the value of each band of a raster at each of many points (e.g. the
signal strength at every school), nodata and points off the raster as null.

The points stream past in batches; each batch is located on the grid at once and the COG
blocks it falls in are read once each (`rasters.sample`). A line or polygon is sampled at
its representative point (`zonal-stats` summarises areas).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ..domain.collection import PropertyType
from .inputs import Layer, Source, batches
from .limits import Budget
from .raster_inputs import RasterSource
from .results import Result, free, prop


def run(store: Any, values: dict[str, Any], budget: Budget) -> Result:
    from ..rasters import open_cog
    from ..rasters.sample import as_json, values_at

    raster: RasterSource = values["raster"]
    points: Source = values["points"]
    assert raster.info.raster is not None
    grid = raster.info.raster
    bands = [raster.band(name) for name in values["bands"] or []] or list(
        range(1, len(grid.bands) + 1)
    )
    integer = np.issubdtype(np.dtype(grid.dtype), np.integer)
    names = [p.name for p in points.properties]
    layers: list[Layer] = []
    rows: list[list[Any]] = []
    with open_cog(store, raster.collection, raster.version) as ds:
        for layer in batches(store, points, budget, names):
            at = layer.geoms
            other = shapely.get_type_id(at) != 0
            if other.any():
                at = at.copy()
                at[other] = shapely.point_on_surface(at[other])
            found = values_at(
                ds, shapely.get_x(at), shapely.get_y(at), bands=bands, check=budget.check
            )
            rows.extend(as_json(found, integer))
            layers.append(layer)
    joined = Layer.join(layers, names)
    taken = set(names)
    columns: dict[str, list[Any]] = {n: joined.columns[n] for n in names}
    properties = [prop(p.name, p.type) for p in points.properties]
    fid = free("feature_id", taken)
    columns[fid] = joined.ids.tolist()
    properties.append(prop(fid, PropertyType.INTEGER))
    kind = PropertyType.INTEGER if integer else PropertyType.NUMBER
    for position, band in enumerate(bands):
        key = free(grid.bands[band - 1].name, taken)
        columns[key] = [row[position] for row in rows]
        properties.append(prop(key, kind))
    summary = {"raster": raster.provenance(), "bands": [grid.bands[b - 1].name for b in bands]}
    return Result(joined.geoms, columns, properties, summary)

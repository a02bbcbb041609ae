"""`zonal-stats`: for each polygon of a vector collection, statistics of a raster band
inside it, weighted by how much of each cell it covers (`rasters.zonal`, exactextract):
mean, min, max, count of valid cells, and with a threshold the shares of the polygon's
valid area at or above it and below it (e.g. the share of each district with signal
above -90 dBm).

The zones are read once (as `join-aggregate` reads them) and passed to exactextract in
chunks, the run's time budget checked between them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..domain.collection import PropertyType
from .inputs import Source, load
from .limits import Budget
from .raster_inputs import RasterSource
from .results import Result, free, numbers, prop

#: Zones handed to exactextract at a time (the budget is checked between chunks).
ZONES_PER_CALL = 250
STATISTICS = ("mean", "min", "max", "count")
SHARES = ("share_above", "share_below")


def run(store: Any, values: dict[str, Any], budget: Budget) -> Result:
    from ..rasters import open_cog
    from ..rasters.zonal import zonal_stats

    raster: RasterSource = values["raster"]
    zones_in: Source = values["zones"]
    threshold: float | None = values["threshold"]
    band = raster.band(values["band"])
    names = [p.name for p in zones_in.properties]
    zones = load(store, zones_in, budget, names)
    stats = [*STATISTICS, *(SHARES if threshold is not None else ())]
    found: dict[str, list[np.ndarray]] = {s: [] for s in stats}
    with open_cog(store, raster.collection, raster.version) as ds:
        for start in range(0, len(zones), ZONES_PER_CALL):
            budget.check()
            budget.progress(round(100 * start / len(zones)))
            part = zonal_stats(ds, zones.geoms[start : start + ZONES_PER_CALL], band, threshold)
            for s in stats:
                found[s].append(part[s])
    taken = set(names)
    columns: dict[str, list[Any]] = {n: zones.columns[n] for n in names}
    properties = [prop(p.name, p.type) for p in zones_in.properties]
    for s in stats:
        key = free(s, taken)
        column = np.concatenate(found[s]) if found[s] else np.zeros(0)
        columns[key] = numbers(column)
        properties.append(prop(key, PropertyType.NUMBER))
    assert raster.info.raster is not None
    summary: dict[str, Any] = {
        "raster": raster.provenance(),
        "band": raster.info.raster.bands[band - 1].name,
    }
    if threshold is not None:
        summary["threshold"] = threshold
    return Result(zones.geoms, columns, properties, summary)

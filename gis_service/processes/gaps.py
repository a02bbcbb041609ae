"""`coverage-gaps`: the features not covered by any coverage polygon, each with the
geodesic distance to the nearest covered area (e.g. facilities without 5G).

The coverage (optionally filtered, `technology = '5G'`) is held in an STRtree in a metric
frame; the features stream past in batches, those within a polygon are let go, and for
the rest the nearest polygon is found by the tree and the gap measured on the ellipsoid.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ..domain.collection import PropertyType
from . import geodesy
from .geodesy import Frame
from .inputs import Layer, Source, batches, load
from .limits import Budget
from .results import Result, free, prop


def run(store: Any, values: dict[str, Any], budget: Budget) -> Result:
    features: Source = values["features"]
    coverage: Source = values["coverage"]
    cover = load(store, coverage, budget, [])
    names = [p.name for p in features.properties]
    frame: Frame | None = None
    tree = None
    cover_m = cover.geoms
    if len(cover):
        frame = Frame.around(geodesy.bounds_of(cover.geoms))
        cover_m = frame.project(cover.geoms)
        tree = shapely.STRtree(cover_m)
    parts: list[tuple[Layer, np.ndarray, np.ndarray]] = []
    for layer in batches(store, features, budget, names, held=False):
        budget.check()
        if tree is None or frame is None:
            budget.hold(len(layer))
            parts.append((layer, np.full(len(layer), -1), np.full(len(layer), np.nan)))
            continue
        geoms_m = frame.project(layer.geoms)
        inside = tree.query(geoms_m, predicate="intersects")[0]
        out = np.setdiff1d(np.arange(len(layer)), inside)
        if not len(out):
            continue
        budget.hold(len(out))
        pairs = tree.query_nearest(geoms_m[out], all_matches=False)
        g, c = out[pairs[0]], pairs[1]
        dist = geodesy.distances(frame, layer.geoms[g], cover.geoms[c], geoms_m[g], cover_m[c])
        parts.append((layer.take(g), cover.ids[c], dist))
    taken: set[str] = set(names)
    fixed = {key: free(key, taken) for key in ("feature_id", "nearest_coverage_id", "distance_m")}
    joined = Layer.join([p[0] for p in parts], names)
    columns: dict[str, list[Any]] = {n: joined.columns[n] for n in names}
    columns[fixed["feature_id"]] = joined.ids.tolist()
    columns[fixed["nearest_coverage_id"]] = [None if v < 0 else int(v) for p in parts for v in p[1]]
    columns[fixed["distance_m"]] = [None if v != v else float(v) for p in parts for v in p[2]]
    properties = [
        *[prop(p.name, p.type) for p in features.properties],
        prop(fixed["feature_id"], PropertyType.INTEGER),
        prop(fixed["nearest_coverage_id"], PropertyType.INTEGER),
        prop(fixed["distance_m"], PropertyType.NUMBER),
    ]
    return Result(joined.geoms, columns, properties, {"covering_polygons": len(cover)})

"""`within-distance`: the target features within `distance` metres of any source feature.

The targets read are those in the source's box widened by the distance (the store's
spatial index selects them, a batch at a time); each batch is matched against an STRtree
of the sources in a metric frame and the candidate pairs measured on the ellipsoid.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ..domain.collection import PropertyType
from . import geodesy
from .geodesy import SLACK, Frame
from .inputs import Layer, Source, batches, load
from .limits import Budget
from .results import Result, free, prop


def run(store: Any, values: dict[str, Any], budget: Budget) -> Result:
    source: Source = values["source"]
    target: Source = values["target"]
    distance: float = values["distance"]
    src = load(store, source, budget, [])
    names = [p.name for p in target.properties]
    parts: list[tuple[Layer, np.ndarray, np.ndarray]] = []
    if len(src):
        frame = Frame.around(geodesy.bounds_of(src.geoms))
        src_m = frame.project(src.geoms)
        tree = shapely.STRtree(src_m)
        box = geodesy.widen(geodesy.bounds_of(src.geoms), distance)
        for layer in batches(store, target, budget, names, box, held=False):
            budget.check()
            tgt_m = frame.project(layer.geoms)
            pairs = tree.query(tgt_m, predicate="dwithin", distance=distance * SLACK)
            t, s = pairs[0], pairs[1]
            dist = geodesy.distances(frame, layer.geoms[t], src.geoms[s], tgt_m[t], src_m[s])
            close = dist <= distance
            t, s, dist = t[close], s[close], dist[close]
            if not len(t):
                continue
            order = np.lexsort((dist, t))
            t, s, dist = t[order], s[order], dist[order]
            first = np.concatenate([[True], t[1:] != t[:-1]])
            budget.hold(int(first.sum()))
            parts.append((layer.take(t[first]), src.ids[s[first]], dist[first]))
    taken: set[str] = set()
    extra = {n: free(n, taken) for n in names}
    fixed = {key: free(key, taken) for key in ("target_id", "source_id", "distance_m")}
    joined = Layer.join([p[0] for p in parts], names)
    columns: dict[str, list[Any]] = {
        fixed["target_id"]: joined.ids.tolist(),
        fixed["source_id"]: [int(v) for p in parts for v in p[1]],
        fixed["distance_m"]: [float(v) for p in parts for v in p[2]],
        **{extra[n]: joined.columns[n] for n in names},
    }
    properties = [
        prop(fixed["target_id"], PropertyType.INTEGER),
        prop(fixed["source_id"], PropertyType.INTEGER),
        prop(fixed["distance_m"], PropertyType.NUMBER),
        *[prop(extra[p.name], p.type) for p in target.properties],
    ]
    return Result(joined.geoms, columns, properties)

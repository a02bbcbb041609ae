"""`buffer` and `intersection`: new geometries, with their geodesic areas in m².

A buffer is drawn in a metric frame (UTM around the input) and brought back to CRS84;
an intersection pairs the features of two inputs through an STRtree and keeps each
pair's common part. Areas are measured on the ellipsoid (Geod), not in the frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ..domain.collection import PropertyType
from . import geodesy
from .geodesy import Frame
from .inputs import Layer, Source, batches, load
from .limits import CHUNK, Budget
from .results import Result, free, prop


def buffer(store: Any, values: dict[str, Any], budget: Budget) -> Result:
    source: Source = values["features"]
    distance: float = values["distance"]
    names = [p.name for p in source.properties]
    layer = load(store, source, budget, names)
    out = np.empty(len(layer), object)
    if len(layer):
        frame = Frame.around(geodesy.bounds_of(layer.geoms))
        for lo in range(0, len(layer), CHUNK):
            budget.check()
            part = frame.project(layer.geoms[lo : lo + CHUNK])
            out[lo : lo + CHUNK] = frame.unproject(shapely.buffer(part, distance, quad_segs=16))
    taken = set(names)
    area, fid = free("area_m2", taken), free("feature_id", taken)
    columns = {n: layer.columns[n] for n in names}
    columns[fid] = layer.ids.tolist()
    columns[area] = geodesy.areas(out).tolist()
    properties = [prop(p.name, p.type) for p in source.properties]
    properties += [prop(fid, PropertyType.INTEGER), prop(area, PropertyType.NUMBER)]
    return Result(out, columns, properties)


def intersection(store: Any, values: dict[str, Any], budget: Budget) -> Result:
    first: Source = values["input"]
    second: Source = values["overlay"]
    names_a = [p.name for p in first.properties]
    names_b = [p.name for p in second.properties]
    over = load(store, second, budget, names_b)
    tree = shapely.STRtree(over.geoms)
    box = geodesy.bounds_of(over.geoms) if len(over) else (0.0, 0.0, 0.0, 0.0)
    parts: list[tuple[Layer, np.ndarray, np.ndarray]] = []
    for layer in batches(store, first, budget, names_a, box, held=False):
        budget.check()
        a, b = tree.query(layer.geoms, predicate="intersects")
        common = shapely.intersection(layer.geoms[a], over.geoms[b])
        keep = ~shapely.is_empty(common)
        budget.hold(int(keep.sum()))
        parts.append((layer.take(a[keep]), b[keep], common[keep]))
    joined = Layer.join([p[0] for p in parts], names_a)
    b_index = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
    geoms = np.concatenate([p[2] for p in parts]) if parts else np.empty(0, object)
    taken = set(names_a)
    renamed = {n: free(n, taken) for n in names_b}
    ia, ib, area = free("input_id", taken), free("overlay_id", taken), free("area_m2", taken)
    columns = {n: joined.columns[n] for n in names_a}
    columns.update({renamed[n]: [over.columns[n][i] for i in b_index] for n in names_b})
    columns[ia], columns[ib] = joined.ids.tolist(), over.ids[b_index].tolist()
    columns[area] = geodesy.areas(geoms).tolist()
    properties = [prop(p.name, p.type) for p in first.properties]
    properties += [prop(renamed[p.name], p.type) for p in second.properties]
    properties += [
        prop(ia, PropertyType.INTEGER),
        prop(ib, PropertyType.INTEGER),
        prop(area, PropertyType.NUMBER),
    ]
    return Result(geoms, columns, properties)

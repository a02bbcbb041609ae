"""`join-aggregate`: for each zone, the count of features inside and statistics of their
numeric properties (e.g. facilities and their capacity per district).

The features stream past in batches (only the box of the zones is read: the store's
spatial index selects it) and only running sums, counts and extremes are kept per zone,
so a million points cost the memory of one batch. A feature is inside a zone when its
geometry (a point) or its representative point (a line or polygon) lies within it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ..domain.collection import PropertyType
from . import geodesy
from .inputs import Source, batches, load
from .limits import Budget
from .results import Result, free, numbers, prop

STATISTICS = ("sum", "mean", "min", "max")


class Totals:
    """Per zone and property: count, sum, min and max of the values seen so far."""

    def __init__(self, zones: int, names: list[str]) -> None:
        self.count = np.zeros(zones, np.int64)
        self.n = {p: np.zeros(zones, np.int64) for p in names}
        self.sum = {p: np.zeros(zones) for p in names}
        self.min = {p: np.full(zones, np.inf) for p in names}
        self.max = {p: np.full(zones, -np.inf) for p in names}

    def add(self, zone: np.ndarray, columns: dict[str, np.ndarray]) -> None:
        self.count += np.bincount(zone, minlength=len(self.count))
        for name, values in columns.items():
            ok = ~np.isnan(values)
            z, v = zone[ok], values[ok]
            self.n[name] += np.bincount(z, minlength=len(self.count))
            self.sum[name] += np.bincount(z, v, minlength=len(self.count))
            np.minimum.at(self.min[name], z, v)
            np.maximum.at(self.max[name], z, v)

    def column(self, name: str, stat: str) -> np.ndarray:
        empty = self.n[name] == 0
        if stat == "sum":
            return self.sum[name]
        if stat == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                return np.where(empty, np.nan, self.sum[name] / np.maximum(self.n[name], 1))
        values = self.min[name] if stat == "min" else self.max[name]
        return np.where(empty, np.nan, values)


def run(store: Any, values: dict[str, Any], budget: Budget) -> Result:
    zones_in: Source = values["zones"]
    features: Source = values["features"]
    names: list[str] = values["properties"]
    stats: list[str] = values["statistics"]
    zone_names = [p.name for p in zones_in.properties]
    zones = load(store, zones_in, budget, zone_names)
    tree = shapely.STRtree(zones.geoms)
    totals = Totals(len(zones), names)
    box = geodesy.bounds_of(zones.geoms) if len(zones) else (0.0, 0.0, 0.0, 0.0)
    for layer in batches(store, features, budget, names, box, held=False):
        budget.check()
        points = layer.geoms
        other = shapely.get_type_id(points) != 0
        if other.any():
            points = points.copy()
            points[other] = shapely.point_on_surface(points[other])
        f, z = tree.query(points, predicate="within")
        cols = {n: np.array(layer.columns[n], dtype=float)[f] for n in names}
        totals.add(z, cols)
    taken = set(zone_names)
    columns: dict[str, list[Any]] = {n: zones.columns[n] for n in zone_names}
    properties = [prop(p.name, p.type) for p in zones_in.properties]
    count = free("count", taken)
    columns[count] = totals.count.tolist()
    properties.append(prop(count, PropertyType.INTEGER))
    for name in names:
        for stat in stats:
            key = free(f"{name}_{stat}", taken)
            columns[key] = numbers(totals.column(name, stat))
            properties.append(prop(key, PropertyType.NUMBER))
    return Result(zones.geoms, columns, properties)

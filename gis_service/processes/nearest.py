"""`nearest`: for each source feature, the k nearest target features, in geodesic metres.

The targets are searched in a metric frame by an STRtree (`dwithin` around each source,
the radius grown for the sources that have not yet found k), and only the candidates
are measured on the ellipsoid; with `max_distance` the targets read are those in the box
the distance reaches, which the store's spatial index selects. Only the targets'
geometries are held while searching; the neighbours' properties are read afterwards by id.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import shapely

from ..domain.collection import PropertyType
from . import geodesy
from .geodesy import SLACK, Frame
from .inputs import Layer, Source, columns_for, load
from .limits import CHUNK, Budget
from .results import Result, free, prop

#: A search radius past this (a quarter of the Earth) stops growing: what is found stays.
FARTHEST = 1.0e7


def pairs_within(tree: shapely.STRtree, src_m: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """(2, n) source/target index pairs closer than each source's radius (planar)."""
    if not len(src_m):
        return np.zeros((2, 0), np.int64)
    return tree.query(src_m, predicate="dwithin", distance=radius)


def top_k(src: np.ndarray, dist: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Positions of each source's k smallest distances, and their ranks (1-based)."""
    order = np.lexsort((dist, src))
    grouped = src[order]
    starts = np.searchsorted(grouped, grouped, side="left")
    rank = np.arange(len(order)) - starts
    keep = rank < k
    return order[keep], rank[keep] + 1


def search(
    src: Layer, tgt: Layer, k: int, max_distance: float | None, budget: Budget
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(source index, target index, metres, rank) of every neighbour found."""
    frame = Frame.around(geodesy.bounds_of(src.geoms, tgt.geoms))
    src_m, tgt_m = frame.project(src.geoms), frame.project(tgt.geoms)
    tree = shapely.STRtree(tgt_m)
    start = max_distance * SLACK if max_distance else _first_radius(tgt_m, k)
    found: list[tuple[np.ndarray, ...]] = []
    for lo in range(0, len(src), CHUNK):
        budget.check()
        budget.progress(10 + 80 * lo // max(len(src), 1))
        pending = np.arange(lo, min(lo + CHUNK, len(src)))
        radius = np.full(len(pending), start)
        while len(pending):
            budget.check()
            pairs = pairs_within(tree, src_m[pending], radius)
            s, t = pending[pairs[0]], pairs[1]
            planar = shapely.distance(src_m[s], tgt_m[t])
            near = np.bincount(pairs[0], planar <= radius[pairs[0]] / SLACK, len(pending))
            done = (near >= min(k, len(tgt))) | (radius >= FARTHEST) | bool(max_distance)
            mine = done[pairs[0]]
            dist = geodesy.distances(
                frame, src.geoms[s[mine]], tgt.geoms[t[mine]], src_m[s[mine]], tgt_m[t[mine]]
            )
            s_done, t_done = s[mine], t[mine]
            if max_distance:
                close = dist <= max_distance
                s_done, t_done, dist = s_done[close], t_done[close], dist[close]
            chosen, rank = top_k(s_done, dist, k)
            found.append((s_done[chosen], t_done[chosen], dist[chosen], rank))
            pending, radius = pending[~done], radius[~done] * 4
    if not found:
        return (np.zeros(0, np.int64),) * 2 + (np.zeros(0), np.zeros(0, np.int64))
    return tuple(np.concatenate(parts) for parts in zip(*found, strict=True))  # type: ignore[return-value]


def _first_radius(tgt_m: np.ndarray, k: int) -> float:
    """A radius that holds about 4k targets where they are spread evenly."""
    if not len(tgt_m):
        return FARTHEST
    minx, miny, maxx, maxy = shapely.total_bounds(tgt_m)
    area = max((maxx - minx) * (maxy - miny), 1.0)
    return float(max(np.sqrt(4 * k * area / (np.pi * len(tgt_m))), 10.0))


def run(store: Any, values: dict[str, Any], budget: Budget) -> Result:
    source: Source = values["source"]
    target: Source = values["target"]
    k, max_distance = values["k"], values["max_distance"]
    src = load(store, source, budget, [])
    box = geodesy.widen(geodesy.bounds_of(src.geoms), max_distance) if max_distance else None
    tgt = (
        load(store, target, budget, [], box)
        if len(src)
        else load(store, target, budget, [], (0, 0, 0, 0))
    )
    s, t, dist, rank = search(src, tgt, k, max_distance, budget)
    order = np.lexsort((rank, s))
    s, t, dist, rank = s[order], t[order], dist[order], rank[order]
    budget.hold(len(s))
    names = [p.name for p in target.properties]
    taken: set[str] = set()
    fixed = {key: free(key, taken) for key in ("source_id", "target_id", "rank", "distance_m")}
    extra = {n: free(n, taken) for n in names}
    props = columns_for(store, target, budget, tgt.ids[t], names)
    columns: dict[str, list[Any]] = {
        fixed["source_id"]: src.ids[s].tolist(),
        fixed["target_id"]: tgt.ids[t].tolist(),
        fixed["rank"]: rank.tolist(),
        fixed["distance_m"]: dist.tolist(),
        **{extra[n]: props[n] for n in names},
    }
    properties = [
        prop(fixed["source_id"], PropertyType.INTEGER),
        prop(fixed["target_id"], PropertyType.INTEGER),
        prop(fixed["rank"], PropertyType.INTEGER),
        prop(fixed["distance_m"], PropertyType.NUMBER),
        *[prop(extra[p.name], p.type) for p in target.properties],
    ]
    return Result(tgt.geoms[t], columns, properties, {"sources": len(src)})

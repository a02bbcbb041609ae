"""W6, vector tiles: request lists, answer checks and timed runs, for us and for tipg.

Two layers (the points `facilities` and the `coverage` polygons) at z6, z10 and z14 of
WebMercatorQuad: per layer and zoom 200 tiles, each the tile of a randomly drawn feature
(seeded), so the lists sit where the data is (z6 and z10 repeat tiles: the area spans only
a few of them). Before timing, every distinct tile is fetched and a sample decoded with
mapbox_vector_tile and compared with the generated data (never with a store). Expected
answers follow the service's documented generalisation: a tile of more than 2,000 features
holds point clusters whose `count`s add up to the tile's points, or the largest polygons.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mapbox_vector_tile
import numpy as np
import pyogrio
import shapely

from bench import pyspy
from bench.checks import CheckFailed, Dataset, ensure
from bench.loadgen import Client

ZOOMS = (6, 10, 14)
PER_ZOOM = 200
LAYERS = ("facilities", "coverage")
EXTENT = 4096
BUFFER = 64 / EXTENT  # the service clips (and selects) this far outside a tile
MAX_FEATURES = 2000  # the service generalises a tile holding more
DECODE_SAMPLE = 8  # distinct tiles decoded and compared per layer and zoom
WARM_CONNECTIONS = 8  # connections fetching every tile once before a timed run
OURS = "/collections/{layer}/tiles/WebMercatorQuad/{z}/{row}/{col}"
TIPG = "/collections/peer.{layer}/tiles/WebMercatorQuad/{z}/{col}/{row}"  # z/x/y


@dataclass
class Polygons:
    """The generated coverage layer (row i is id i + 1), read from its own file."""

    geoms: np.ndarray
    centre_lon: np.ndarray
    centre_lat: np.ndarray
    columns: dict[str, np.ndarray]
    tree: shapely.STRtree

    @classmethod
    def read(cls, path: Path) -> Polygons:
        meta, table = pyogrio.read_arrow(path)
        name = meta.get("geometry_name") or "wkb_geometry"
        geoms = shapely.from_wkb(table.column(name).to_numpy(zero_copy_only=False))
        centres = shapely.centroid(geoms)
        columns = {
            n: table.column(n).to_numpy(zero_copy_only=False)
            for n in table.column_names
            if n != name
        }
        return cls(
            geoms, shapely.get_x(centres), shapely.get_y(centres), columns, shapely.STRtree(geoms)
        )


def world(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CRS84 to WebMercatorQuad world units (0..1, rows growing southwards)."""
    x = (np.asarray(lon) + 180.0) / 360.0
    y = (1.0 - np.arcsinh(np.tan(np.radians(lat))) / math.pi) / 2.0
    return x, y


def lonlat(wx: float, wy: float) -> tuple[float, float]:
    return wx * 360.0 - 180.0, math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * wy))))


def tile_lists(
    data: Dataset, polygons: Polygons, seed: int, per_zoom: int = PER_ZOOM
) -> dict[str, dict[int, list[tuple[int, int, int]]]]:
    """Per layer and zoom, `per_zoom` (z, row, col) tiles of randomly drawn features."""
    rng = np.random.default_rng([seed, 6])
    positions = {
        "facilities": (data.lon, data.lat),
        "coverage": (polygons.centre_lon, polygons.centre_lat),
    }
    out: dict[str, dict[int, list[tuple[int, int, int]]]] = {}
    for layer, (lon, lat) in positions.items():
        out[layer] = {}
        for z in ZOOMS:
            chosen = rng.integers(0, len(lon), per_zoom)
            wx, wy = world(lon[chosen], lat[chosen])
            cols, rows = (wx * 2**z).astype(int), (wy * 2**z).astype(int)
            out[layer][z] = [(z, int(r), int(c)) for r, c in zip(rows, cols, strict=True)]
    return out


def paths(template: str, layer: str, tiles: list[tuple[int, int, int]]) -> list[str]:
    return [template.format(layer=layer, z=z, row=r, col=c) for z, r, c in tiles]


def _bounds(z: int, row: int, col: int, buffer: float) -> tuple[float, float, float, float]:
    size = 2.0**z
    return (
        (col - buffer) / size,
        (row - buffer) / size,
        (col + 1 + buffer) / size,
        (row + 1 + buffer) / size,
    )


def _decoded(body: bytes) -> dict[str, Any]:
    return mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})


def _check_points(data: Dataset, tile: tuple[int, int, int], layer: dict) -> dict[str, Any]:
    """Whole tiles: the ids in the buffered tile, at their positions, with their properties;
    crowded tiles: clusters inside the tile whose counts add up to the tile's points."""
    z, row, col = tile
    wx, wy = world(data.lon, data.lat)
    x0, y0, x1, y1 = _bounds(z, row, col, 0.0)
    in_tile = int(((wx >= x0) & (wx < x1) & (wy >= y0) & (wy < y1)).sum())
    features = layer["features"]
    if in_tile > MAX_FEATURES:
        total = sum(int(f["properties"].get("count", 0)) for f in features)
        ensure(abs(total - in_tile) <= 2, f"{tile}: clusters count {total}, tile has {in_tile}")
        ensure(len(features) <= 32 * 32, f"{tile}: {len(features)} clusters > 32 x 32 cells")
        return {"generalised": True, "points": in_tile, "features": len(features)}
    bx0, by0, bx1, by1 = _bounds(z, row, col, BUFFER)
    inside = (wx >= bx0) & (wx <= bx1) & (wy >= by0) & (wy <= by1)
    expected = set((np.flatnonzero(inside) + 1).tolist())
    got = {int(f["id"]) for f in features}
    ensure(len(expected ^ got) <= 2, f"{tile}: ids differ by {len(expected ^ got)}")
    scale = 2.0**z * EXTENT
    assert data.category is not None and data.capacity is not None
    for f in features[:200]:
        i = int(f["id"]) - 1
        x, y = f["geometry"]["coordinates"]
        ex, ey = wx[i] * scale - col * EXTENT, wy[i] * scale - row * EXTENT
        ensure(abs(x - ex) <= 1 and abs(y - ey) <= 1, f"{tile}: id {i + 1} at {x},{y}")
        props = f["properties"]
        ensure(props.get("category") == data.category[i], f"{tile}: id {i + 1} category")
        ensure(props.get("capacity") == int(data.capacity[i]), f"{tile}: id {i + 1} capacity")
    return {"generalised": False, "points": len(expected), "features": len(features)}


def _check_polygons(polygons: Polygons, tile: tuple[int, int, int], layer: dict) -> dict[str, Any]:
    """Ids among the polygons meeting the buffered tile, all of them when at most 2,000
    boxes meet the tile (a few may vanish when snapped to the grid), at most 2,000 when
    more do; properties as generated."""
    z, row, col = tile
    bx0, by0, bx1, by1 = _bounds(z, row, col, BUFFER)
    west, north = lonlat(bx0, by0)
    east, south = lonlat(bx1, by1)
    candidates = polygons.tree.query(shapely.box(west, south, east, north), "intersects")
    x0, y0, x1, y1 = _bounds(z, row, col, 0.0)
    w2, n2 = lonlat(x0, y0)
    e2, s2 = lonlat(x1, y1)
    # the service decides from its index of bounding boxes, as the STRtree's own query does
    in_tile = len(polygons.tree.query(shapely.box(w2, s2, e2, n2)))
    expected = set((candidates + 1).tolist())
    features = layer["features"]
    got = {int(f["id"]) for f in features}
    ensure(got <= expected, f"{tile}: {len(got - expected)} polygons not in the tile")
    generalised = in_tile > MAX_FEATURES
    if generalised:
        ensure(len(got) <= MAX_FEATURES, f"{tile}: {len(got)} polygons > {MAX_FEATURES}")
    else:
        ensure(len(got) >= 0.98 * len(expected), f"{tile}: {len(got)} of {len(expected)}")
    for f in features[:200]:
        i = int(f["id"]) - 1
        for name in ("operator", "technology", "signal"):
            want = polygons.columns[name][i]
            want = int(want) if name == "signal" else str(want)
            ensure(f["properties"].get(name) == want, f"{tile}: id {i + 1} {name}")
    return {"generalised": generalised, "polygons": len(expected), "features": len(features)}


def check_list(
    client: Client,
    template: str,
    layer: str,
    tiles: list[tuple[int, int, int]],
    truth: Dataset | Polygons | None,
) -> dict[str, Any]:
    """Every distinct tile answers 200 and decodes; a sample is compared with the data
    (`truth` None: a peer, whose generalisation differs; its tiles must hold features)."""
    distinct = sorted(set(tiles))
    sizes, details = [], []
    for k, tile in enumerate(distinct):
        path = paths(template, layer, [tile])[0]
        status, body = client.get(path)
        if status != 200:
            raise CheckFailed(f"{path}: HTTP {status}, but a feature lies in the tile")
        sizes.append(len(body))
        if k >= DECODE_SAMPLE and k != len(distinct) - 1:
            continue
        layers = _decoded(body)
        if truth is None:
            ensure(sum(len(v["features"]) for v in layers.values()) > 0, f"{path}: no feature")
            continue
        ensure(layer in layers, f"{path}: no layer {layer!r} (has {sorted(layers)})")
        if isinstance(truth, Polygons):
            details.append(_check_polygons(truth, tile, layers[layer]))
        else:
            details.append(_check_points(truth, tile, layers[layer]))
    return {
        "passed": True,
        "distinct_tiles": len(distinct),
        "decoded": min(len(distinct), DECODE_SAMPLE + 1),
        "largest_bytes": max(sizes),
        "mean_bytes": round(float(np.mean(sizes))),
        "generalised_in_sample": sum(1 for d in details if d["generalised"]),
        "sample": details[:3],
    }


def warm(port: int, path_list: list[str]) -> None:
    """Every tile once on several connections, so each worker has built its index (and,
    with the cache on, holds the tiles) before the clock starts."""
    clients = [Client(port) for _ in range(WARM_CONNECTIONS)]
    try:
        for path in sorted(set(path_list)):
            for client in clients:
                client.get(path)
    finally:
        for client in clients:
            client.close()


ERRORS = (CheckFailed, RuntimeError, OSError, ValueError, KeyError, TypeError)


def warm_indexes(port: int, path_list: list[str]) -> None:
    """A few tiles on several connections: every worker builds its tile index (once per
    generation) before the clock starts, and no tile is left cached (the cache is off)."""
    clients = [Client(port) for _ in range(WARM_CONNECTIONS)]
    try:
        for client in clients:
            for path in path_list[:2]:
                client.get(path)
    finally:
        for client in clients:
            client.close()


def run(
    template: str,
    name: str,
    port: int,
    lists: dict[str, dict[int, list[tuple[int, int, int]]]],
    truths: dict[str, Any] | None,
    load: Any,
    mode: str,
    profile: tuple[int, Path] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each layer and zoom: checked, warmed, then timed with wrk cycling its 200 tiles.

    `mode` "cached": the server keeps tiles and every tile was fetched before the clock
    started; "uncached": the server was started with its tile cache off, so every request
    renders (tipg has no tile cache). `truths` None: a peer, checked less strictly.
    `profile` (server pid, folder): py-spy records the server during every timed run."""
    out: dict[str, dict[str, Any]] = {}
    client = Client(port)
    try:
        for layer in LAYERS:
            for z in ZOOMS:
                key = f"{layer} z{z}"
                tiles = lists[layer][z]
                path_list = paths(template, layer, tiles)
                truth = truths[layer] if truths else None
                try:
                    verdict = check_list(client, template, layer, tiles, truth)
                except ERRORS as exc:
                    out[key] = {"status": "FAILED", "reason": f"correctness check: {exc}"}
                    continue
                print(f"    W6 {key} {mode}", flush=True)
                (warm if mode == "cached" else warm_indexes)(port, path_list)
                label = f"{name}-W6-{layer}-z{z}-{mode}"
                out_file = profile[1] / f"profile-{label}.txt" if profile else None
                spy = pyspy.start(profile[0], load.cfg.duration, out_file) if out_file else None
                try:
                    result = load.run(port, path_list, label)
                finally:
                    summary = pyspy.finish(spy, out_file, 12) if spy and out_file else None
                entry = {"status": "ok", "check": verdict, **result.as_dict()}
                if summary:
                    entry["profile"] = summary
                if result.status_errors or not result.requests:
                    entry["status"] = "FAILED"
                    entry["reason"] = f"{result.status_errors} error responses"
                out[key] = entry
    finally:
        client.close()
    return out


def ratios(ours: dict[str, Any], w0_rps: float | None, tipg: dict[str, Any] | None) -> None:
    """Per layer and zoom: uncached ÷ tipg's (same layer, same run), cached ÷ W0."""
    peer = (tipg or {}).get("uncached", {})
    for key, entry in ours.get("uncached", {}).items():
        other = peer.get(key, {})
        if entry.get("status") == "ok" and other.get("status") == "ok" and other.get("rps"):
            entry["rps_ratio_to_tipg"] = round(entry["rps"] / other["rps"], 2)
    for entry in ours.get("cached", {}).values():
        if entry.get("status") == "ok" and w0_rps:
            entry["rps_ratio_to_w0"] = round(entry["rps"] / w0_rps, 3)

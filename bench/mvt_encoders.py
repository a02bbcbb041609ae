"""The MVT encoders side by side: ours (`gis_service.tiles.mvt`) and mapbox-vector-tile.

The issue's orientation numbers were 2,000 40-vertex polygons (mapbox-vector-tile ~160 ms)
and the choice was to be made by measurement; this measures both encoders on the same
layers, already in tile units (clipping and simplification apart), and checks that
mapbox-vector-tile decodes ours to the same features:

    .venv/bin/python bench/mvt_encoders.py            # prints a markdown table

Layers: 2,000 40-vertex polygons with 3 properties, and 2,000 points with 6 properties
(two distinct names per point, as the W6 facilities have). Best of 5 runs each.
vtzero is not measured (not a dependency: the issue found it aborts the whole process on a
ring with a zero-length segment, which a server cannot risk).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import mapbox_vector_tile
import numpy as np
import shapely

from gis_service.tiles import mvt

EXTENT = 4096
N = 2000


def polygons(rng: np.random.Generator) -> tuple[np.ndarray, dict[str, list]]:
    angles = np.linspace(0, 2 * np.pi, 40, endpoint=False)
    centres = rng.uniform(200, 3900, (N, 2))
    radii = rng.uniform(5, 80, N)
    rings = centres[:, None, :] + radii[:, None, None] * np.stack(
        [np.cos(angles), -np.sin(angles)], axis=1
    )
    geoms = shapely.polygons(np.rint(rings))
    geoms = shapely.orient_polygons(geoms, exterior_cw=False)
    columns = {
        "operator": [["etisalat", "du", "virgin"][i % 3] for i in range(N)],
        "technology": [["4G", "5G"][i % 2] for i in range(N)],
        "signal": [float(v) for v in rng.uniform(-120, -50, N).round(1)],
    }
    return geoms, columns


def points(rng: np.random.Generator) -> tuple[np.ndarray, dict[str, list]]:
    geoms = shapely.points(rng.integers(0, EXTENT, (N, 2)).astype(float))
    columns = {
        "name_en": [f"Facility {i}" for i in range(N)],
        "name_ar": [f"منشأة {i}" for i in range(N)],
        "category": [["school", "clinic", "mosque", "police"][i % 4] for i in range(N)],
        "capacity": [int(v) for v in rng.integers(10, 2000, N)],
        "opened": [f"20{10 + i % 15}-0{1 + i % 9}-1{i % 10}" for i in range(N)],
        "entity": [["dm", "moh", "police"][i % 3] for i in range(N)],
    }
    return geoms, columns


def ours(geoms: np.ndarray, columns: dict[str, list]) -> bytes:
    return mvt.layer("layer", list(range(1, N + 1)), geoms, columns, EXTENT)


def theirs(geoms: np.ndarray, columns: dict[str, list]) -> bytes:
    features = [
        {"geometry": g, "id": i + 1, "properties": {k: v[i] for k, v in columns.items()}}
        for i, g in enumerate(geoms)
    ]
    return mapbox_vector_tile.encode(
        {"name": "layer", "features": features},
        default_options={"extents": EXTENT, "y_coord_down": True, "quantize_bounds": None},
    )


def best_ms(fn: Callable[[], bytes], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1000


def same_features(a: bytes, b: bytes) -> bool:
    """Both decode (by mapbox-vector-tile) to the same ids, properties and geometries."""
    da = mapbox_vector_tile.decode(a, default_options={"y_coord_down": True})["layer"]
    db = mapbox_vector_tile.decode(b, default_options={"y_coord_down": True})["layer"]
    fa = {f["id"]: (f["properties"], f["geometry"]) for f in da["features"]}
    fb = {f["id"]: (f["properties"], f["geometry"]) for f in db["features"]}
    return fa == fb


def main() -> None:
    rng = np.random.default_rng(971)
    print("| layer | ours ms | mapbox-vector-tile ms | ratio | ours KB | same features |")
    print("|---|---:|---:|---:|---:|---|")
    for name, (geoms, columns) in (
        ("2,000 40-vertex polygons, 3 properties", polygons(rng)),
        ("2,000 points, 6 properties", points(rng)),
    ):
        a, b = ours(geoms, columns), theirs(geoms, columns)
        t_ours = best_ms(lambda g=geoms, c=columns: ours(g, c))
        t_theirs = best_ms(lambda g=geoms, c=columns: theirs(g, c), runs=3)
        print(
            f"| {name} | {t_ours:.1f} | {t_theirs:.1f} | {t_theirs / t_ours:.0f}x |"
            f" {len(a) / 1024:.0f} | {'yes' if same_features(a, b) else 'NO'} |"
        )


if __name__ == "__main__":
    main()

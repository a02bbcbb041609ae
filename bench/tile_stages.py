"""Where an uncached W6 tile's time goes, in process: read, shape and encode, per tile.

`bench/run.py --only W0,W6 --keep` leaves a run folder with the GeoPackage store and the
W6 request lists; this renders every tile of those lists with the service's own renderer
(no HTTP, one thread, the tile index built first) and reports per layer and zoom the mean
milliseconds of each stage and of the whole, and the p50/p99 of the whole:

    .venv/bin/python bench/tile_stages.py bench/work/run-<stamp>

`--rounds N` repeats each list (the median round is reported) so that a noisy machine
shows less. Stages: read = the store's selection (SQL, rows into Python, WKB), shape =
parse, clip, simplify, snap (`tiles.encode.shape`), encode = the MVT bytes (`tiles.mvt`).
Generalised point tiles (clusters from the index) count as shape.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path
from typing import Any

from gis_service.store.geopackage.store import GeoPackageStore
from gis_service.tiles import render
from gis_service.tiles.encode import encode
from gis_service.tiles.grids import grid
from gis_service.tiles.index import IndexCache

LAYERS = ("facilities", "coverage")
ZOOMS = (6, 10, 14)


class Timed:
    """The store, with the time spent in its tile reads added up."""

    def __init__(self, store: GeoPackageStore) -> None:
        self.store, self.seconds = store, 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def read_selection(self, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return self.store.read_selection(**kwargs)
        finally:
            self.seconds += time.perf_counter() - start


def tiles_of(run: Path, layer: str, z: int) -> list[tuple[int, int, int]]:
    lines = (run / "paths" / f"geopackage-W6-{layer}-z{z}-uncached.txt").read_text().split()
    return [tuple(int(part) for part in line.split("/")[-3:]) for line in lines]  # type: ignore[misc]


def one_round(renderer: render.Renderer, timed: Timed, info: Any, tiles: list) -> dict:
    g = grid("WebMercatorQuad")
    read = shape = enc = 0.0
    totals = []
    for z, row, col in tiles:
        timed.seconds = 0.0
        start = time.perf_counter()
        layer = renderer.layer(info, render.TileSpec(g, z, row, col)).layer
        middle = time.perf_counter()
        encode([layer])
        end = time.perf_counter()
        read += timed.seconds
        shape += middle - start - timed.seconds
        enc += end - middle
        totals.append((end - start) * 1000)
    totals.sort()
    n = len(tiles)
    return {
        "read_ms": read / n * 1000,
        "shape_ms": shape / n * 1000,
        "encode_ms": enc / n * 1000,
        "mean_ms": statistics.fmean(totals),
        "p50_ms": totals[n // 2],
        "p99_ms": totals[min(n - 1, int(n * 0.99))],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="a kept bench run folder (bench/work/run-*)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    timed = Timed(GeoPackageStore(args.run / "store-geopackage"))
    renderer = render.Renderer(timed, IndexCache(10_000_000))  # type: ignore[arg-type]
    print("| layer zoom | read ms | shape ms | encode ms | mean ms | p50 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for layer in LAYERS:
        info = timed.get_collection(layer)
        renderer.index(info, grid("WebMercatorQuad"))
        for z in ZOOMS:
            tiles = tiles_of(args.run, layer, z)
            one_round(renderer, timed, info, tiles)  # warm the page cache
            rounds = sorted(
                (one_round(renderer, timed, info, tiles) for _ in range(args.rounds)),
                key=lambda r: r["mean_ms"],
            )
            r = rounds[len(rounds) // 2]
            cells = " | ".join(f"{r[k]:.1f}" for k in ("read_ms", "shape_ms", "encode_ms"))
            tail = " | ".join(f"{r[k]:.1f}" for k in ("mean_ms", "p50_ms", "p99_ms"))
            print(f"| {layer} z{z} | {cells} | {tail} |", flush=True)


if __name__ == "__main__":
    main()

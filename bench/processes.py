"""Spatial analysis at scale: `nearest` for 10,000 sources among 1,000,000 points and
`join-aggregate` of 1,000,000 points into 300 districts, on each store, through the HTTP
API (in-process TestClient), next to GeoPandas doing the same from the files.

    .venv/bin/python -m bench.processes [--store geopackage|postgis|both] [--work bench/work]

The layers are bench/generate.py's (SYNTHETIC, seeded; made if missing). Each timing is
one warm run (a first, cold run is reported too); memory is the peak growth of the
process's resident set during the run (sampled every 20 ms), the client's answer included.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pyogrio
import shapely

from bench import generate
from bench.procs import postgis_url
from gis_service.app import create_app
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

SOURCES = 10_000


def _rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize() / 2**20


def timed(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Seconds, and the resident memory's peak growth over the start (sampled every 20 ms)."""
    before = peak = _rss_mb()
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.wait(0.02):
            peak = max(peak, _rss_mb())

    watcher = threading.Thread(target=sample, daemon=True)
    watcher.start()
    start = time.perf_counter()
    try:
        out = fn()
    finally:
        done.set()
        watcher.join()
    return time.perf_counter() - start, max(peak, _rss_mb()) - before, out


def layers(work: Path) -> dict[str, Path]:
    count, seed = generate.DEFAULT_COUNT, generate.DEFAULT_SEED
    points = generate.default_path(work, count, seed)
    if not points.exists():
        generate.generate(points, count, seed)
    extras = generate.generate_extras(work, count, seed)
    sources = work / f"sources-n{SOURCES}.gpkg"
    if not sources.exists():
        rng = np.random.default_rng(7)
        lon, lat = rng.uniform(55.35, 55.75, SOURCES), rng.uniform(25.15, 25.45, SOURCES)
        frame = gpd.GeoDataFrame(
            {"n": np.arange(SOURCES)}, geometry=shapely.points(lon, lat), crs=4326
        )
        pyogrio.write_dataframe(frame, sources, layer="sources")
    return {"facilities": points, "districts": extras["districts"], "sources": sources}


@contextmanager
def store_settings(kind: str, folder: Path) -> Iterator[Settings | None]:
    if kind == "geopackage":
        yield Settings(store=str(folder / "store"), versions_prune_interval_s=0)
        return
    with postgis_url() as (url, why):
        if url is None:
            print(f"postgis: skipped ({why})")
            yield None
            return
        yield Settings(
            store=url, postgis_schema=f"b_{uuid.uuid4().hex[:10]}", versions_prune_interval_s=0
        )


def load(settings: Settings, files: dict[str, Path]) -> None:
    store = open_store(settings)
    try:
        for cid, path in files.items():
            start = time.perf_counter()
            import_file(store, path, IngestOptions(collection_id=cid))
            print(f"  loaded {cid} in {time.perf_counter() - start:.1f} s")
    finally:
        store.close()


RUNS = {
    "nearest 10k among 1M": (
        "nearest",
        {"source": {"collection": "sources"}, "target": {"collection": "facilities"}, "k": 1},
    ),
    "join-aggregate 1M into 300": (
        "join-aggregate",
        {
            "zones": {"collection": "districts"},
            "features": {"collection": "facilities"},
            "properties": ["capacity"],
        },
    ),
}


def service(kind: str, settings: Settings) -> None:
    from fastapi.testclient import TestClient

    with TestClient(create_app(settings)) as client:
        for label, (process, inputs) in RUNS.items():

            def call(process=process, inputs=inputs) -> Any:
                res = client.post(f"/processes/{process}/execution", json={"inputs": inputs})
                assert res.status_code == 200, res.text[:300]
                return len(res.json()["features"])

            cold, _, _ = timed(call)
            warm, grew, n = timed(call)
            print(
                f"  {kind:10} {label:28} cold {cold:5.2f} s  warm {warm:5.2f} s"
                f"  peak RSS +{grew:.0f} MB  ({n} features)"
            )


def geopandas(files: dict[str, Path]) -> None:
    def nearest() -> int:
        src = gpd.read_file(files["sources"], use_arrow=True)
        tgt = gpd.read_file(files["facilities"], use_arrow=True, columns=[])
        utm = src.estimate_utm_crs()
        out = gpd.sjoin_nearest(src.to_crs(utm), tgt.to_crs(utm), distance_col="d")
        return len(out)

    def aggregate() -> int:
        zones = gpd.read_file(files["districts"], use_arrow=True)
        pts = gpd.read_file(files["facilities"], use_arrow=True, columns=["capacity"])
        joined = gpd.sjoin(pts, zones, predicate="within")
        stats = joined.groupby("index_right")["capacity"].agg(
            ["count", "sum", "mean", "min", "max"]
        )
        return len(stats)

    for label, fn in (("nearest 10k among 1M", nearest), ("join-aggregate 1M into 300", aggregate)):
        seconds, grew, n = timed(fn)
        print(f"  {'geopandas':10} {label:28} {seconds:5.2f} s  peak RSS +{grew:.0f} MB  ({n})")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", choices=["geopackage", "postgis", "both"], default="both")
    parser.add_argument("--work", type=Path, default=Path("bench/work"))
    parser.add_argument("--no-geopandas", action="store_true")
    args = parser.parse_args(argv)
    files = layers(args.work)
    kinds = ["geopackage", "postgis"] if args.store == "both" else [args.store]
    for kind in kinds:
        with tempfile.TemporaryDirectory() as tmp, store_settings(kind, Path(tmp)) as settings:
            if settings is None:
                continue
            print(f"{kind}:")
            load(settings, files)
            service(kind, settings)
    if not args.no_geopandas:
        print("geopandas (reading the files, sjoin_nearest in UTM / sjoin + groupby):")
        geopandas(files)


if __name__ == "__main__":
    main()

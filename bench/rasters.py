"""Raster benchmark: map tiles per second against TiTiler on the same COG, and zonal-stats
for 300 districts against exactextract called directly (issue 14).

    .venv/bin/python bench/rasters.py [--quick] [--no-peers] [--stores geopackage,postgis]
        [--size 10000] [--zooms 10,12,14] [--duration 10] [--workers 2] [--repeats 5]

Generates (cached) a 10,000 x 10,000 signal-strength COG over Sharjah, imports it and the
districts with `gis-service import`, serves them with `gis-service serve --workers N` (tile
cache off), serves TiTiler from its own venv on the very COG file the store holds, checks
every answer, then times. Everything binds and talks to 127.0.0.1 only; every server
started is stopped. Run timed runs under `flock /tmp/bench.lock`. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import time
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.*, tests.pgcluster

from bench import (
    generate,
    peers,
    procs,
    raster_data,
    raster_report,
    raster_tiles,
    raster_zonal,
    report,
    titiler,
)
from bench.loadgen import wrk_binary, wrk_version
from bench.loading import MB, bench_env, display_url, import_store

BENCH = Path(__file__).resolve().parent
WORK = BENCH / "work"
RASTER = "signal"
ZONES = "districts"
ALL_STORES = ("geopackage", "postgis")


@dataclass
class Config:
    size: int
    seed: int
    zooms: list[int]
    stores: list[str]
    duration: float
    workers: int
    threads: int
    connections: int
    repeats: int
    rounds: int
    peers: bool
    quick: bool
    use_wrk: bool
    keep: bool
    results: Path
    argv: str
    run_dir: Path = WORK

    @property
    def load(self) -> dict[str, Any]:
        return {"duration": self.duration, "threads": self.threads, "connections": self.connections}


def parse_args(argv: list[str]) -> Config:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="1,000 x 1,000 cells, 1 s runs")
    p.add_argument("--size", type=int, help="cells a side (default 10000, --quick 1000)")
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    p.add_argument("--zooms", default="10,12,14", help="WebMercatorQuad zoom levels")
    p.add_argument("--stores", help="comma-separated (default geopackage,postgis; quick: gpkg)")
    p.add_argument("--duration", type=float, help="seconds per timed run (default 10, quick 1)")
    p.add_argument("--workers", type=int, default=2, help="uvicorn workers, ours and TiTiler's")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--connections", type=int, default=16, help="concurrent connections")
    p.add_argument("--repeats", type=int, help="timed zonal-stats runs (default 5, quick 2)")
    p.add_argument(
        "--rounds", type=int, help="timed rounds per zoom and server (default 2, quick 1)"
    )
    p.add_argument(
        "--peers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also measure TiTiler (default: on, off with --quick)",
    )
    p.add_argument("--no-wrk", action="store_true", help="use the Python load loop")
    p.add_argument("--keep", action="store_true", help="keep this run's folder in bench/work/")
    p.add_argument("--results", type=Path, default=BENCH / "results", help="output folder")
    a = p.parse_args(argv)
    stores = [
        s.strip()
        for s in (a.stores or ("geopackage" if a.quick else ",".join(ALL_STORES))).split(",")
        if s.strip()
    ]
    if not stores or set(stores) - set(ALL_STORES):
        p.error(f"--stores takes {', '.join(ALL_STORES)}; got {a.stores!r}")
    return Config(
        size=a.size or (1000 if a.quick else 10_000),
        seed=a.seed,
        zooms=[int(z) for z in a.zooms.split(",")],
        stores=stores,
        duration=a.duration or (1.0 if a.quick else 10.0),
        workers=a.workers,
        threads=a.threads,
        connections=a.connections,
        repeats=a.repeats or (2 if a.quick else 5),
        rounds=a.rounds or (1 if a.quick else 2),
        peers=(not a.quick) if a.peers is None else a.peers,
        quick=a.quick,
        use_wrk=not a.no_wrk,
        keep=a.keep,
        results=a.results,
        argv=shlex.join(argv),
    )


def districts_file(seed: int) -> Path:
    """The vector bench's 300 districts (the same cache file; they do not depend on N)."""
    path = generate.extra_paths(WORK, generate.DEFAULT_COUNT, seed)["districts"]
    if not path.exists():
        generate.districts(path, generate.DISTRICT_COUNT, seed)
    return path


def stored_cog(raster_dir: Path) -> Path:
    """The one COG the store made of our upload: what we serve, TiTiler reads, and
    exactextract is given."""
    files = sorted((raster_dir / RASTER).glob("*.tif"))
    if len(files) != 1:
        raise RuntimeError(f"expected one COG for {RASTER!r}, found {len(files)}")
    return files[0]


def load_store(cfg: Config, store: str, env: dict[str, str], cog: Path) -> dict[str, Any]:
    """`gis-service import` of the raster and the districts (each timed)."""
    cells = cfg.size * cfg.size
    raster = import_store(cog, store, cells, collection=RASTER, temporal=None, env=env)
    zones = import_store(
        districts_file(cfg.seed),
        store,
        generate.DISTRICT_COUNT,
        collection=ZONES,
        temporal=None,
        env=env,
    )
    return {
        "raster_seconds": raster["seconds"],
        "raster_peak_rss_mb": raster["peak_rss_mb"],
        "districts_seconds": zones["seconds"],
    }


def start_peer(
    cfg: Config, stack: ExitStack, out: dict[str, Any], kind: str
) -> procs.Server | None:
    """TiTiler installed and served on this store's COG, or None with the reason in `out`."""
    from gis_service.rasters.files import READ_ENV

    try:
        venv = titiler.install(cfg.run_dir / "install-titiler.log")
        out["versions"] = peers.versions(venv, titiler.VERSIONS)
        log = cfg.run_dir / f"titiler-{kind}" / "server.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        server = stack.enter_context(titiler.serve(venv, cfg.workers, READ_ENV, log))
    except Exception as exc:  # the peer's trouble must not lose our results
        out.update(status="FAILED", reason=f"{type(exc).__name__}: {exc}")
        return None
    out.update(status="ok", setup=titiler.SETUP)
    return server


def measure_tiles(
    cfg: Config, ours: procs.Server, peer: procs.Server | None, cog: Path
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Per zoom: both servers checked, then timed in alternating rounds (ours, TiTiler,
    ours, TiTiler, ...) so that drift and other work hit both; best round each."""
    lists = raster_tiles.tile_lists(cfg.zooms, cfg.seed)
    wrk = wrk_binary() if cfg.use_wrk else None
    truth = raster_data.paths(WORK, cfg.size, cfg.seed)[1]
    peer_tiles: dict[str, Any] = {}

    def ours_path(t: raster_tiles.Tile) -> str:
        return raster_tiles.ours_path(RASTER, t)

    def peer_path(t: raster_tiles.Tile) -> str:
        return titiler.tile_path(str(cog), *t, raster_tiles.RESCALE, raster_tiles.COLORMAP)

    out: dict[str, Any] = {}
    for z, tiles in lists.items():
        name = f"z{z}"
        out[name], images = raster_tiles.check_zoom(ours.port, tiles, ours_path, truth)
        timed = [(out[name], ours.port, ours_path, f"ours-{name}")]
        if peer is not None:
            theirs, their_images = raster_tiles.check_zoom(peer.port, tiles, peer_path, truth)
            theirs["same_as_ours"] = raster_tiles.same_pixels(images, their_images)
            peer_tiles[name] = theirs
            timed.append((theirs, peer.port, peer_path, f"titiler-{name}"))
        for round_ in range(cfg.rounds):
            for entry, port, path_of, label in timed:
                if entry["status"] == "ok":
                    paths = [path_of(t) for t in tiles]
                    raster_tiles.time_round(
                        entry, port, paths, f"{label}-{round_}", cfg.run_dir, wrk, cfg.load
                    )
        theirs = peer_tiles.get(name, {})
        if out[name]["status"] == "ok" and theirs.get("status") == "ok":
            out[name]["ratio_to_titiler"] = round(out[name]["rps"] / theirs["rps"], 2)
    return out, peer_tiles


def bench_store(cfg: Config, kind: str, store: str, results: dict[str, Any]) -> dict[str, Any]:
    """Import, serve (tile cache off), tiles against TiTiler (first store only), zonal."""
    raster_dir = cfg.run_dir / f"rasters-{kind}"
    env = {**bench_env(), "GIS_RASTER_DIR": str(raster_dir), "GIS_TILE_CACHE_MB": "0"}
    source, _ = raster_data.ensure(WORK, cfg.size, cfg.seed)
    out: dict[str, Any] = {"status": "ok", "store": display_url(store)}
    print(f"[{kind}] importing the raster and the districts ...", flush=True)
    out["import"] = load_store(cfg, store, env, source)
    cog = stored_cog(raster_dir)
    log = cfg.run_dir / f"server-{kind}.log"
    with ExitStack() as stack:
        ours = stack.enter_context(procs.serve(store, workers=cfg.workers, env=env, log=log))
        peer = None
        if cfg.peers and results["titiler"].get("status") != "FAILED":
            print(f"[{kind}] installing / serving TiTiler", flush=True)
            peer = start_peer(cfg, stack, results["titiler"], kind)
        print(f"[{kind}] map tiles on 127.0.0.1:{ours.port}", flush=True)
        out["tiles"], out["titiler_tiles"] = measure_tiles(cfg, ours, peer, cog)
        print(f"[{kind}] zonal-stats", flush=True)
        out["zonal"] = raster_zonal.run(
            ours.port, RASTER, ZONES, cog, districts_file(cfg.seed), cfg.repeats
        )
    entries = [*out["tiles"].items(), ("zonal", out["zonal"])]
    failed = [k for k, e in entries if e["status"] != "ok"]
    failed += [f"TiTiler {k}" for k, e in out["titiler_tiles"].items() if e["status"] != "ok"]
    if failed:
        out.update(status="FAILED", reason=f"failed: {', '.join(failed)}")
    return out


def run_store(cfg: Config, kind: str, results: dict[str, Any]) -> dict[str, Any]:
    try:
        if kind == "geopackage":
            return bench_store(cfg, kind, str(cfg.run_dir / "store-geopackage"), results)
        with procs.postgis_url() as (url, how):
            if url is None:
                return {"status": "SKIPPED", "reason": how}
            return {**bench_store(cfg, kind, url, results), "source": how}
    except Exception as exc:  # one store's failure must not lose the other's results
        return {"status": "FAILED", "reason": f"{type(exc).__name__}: {exc}"}


def describe_load(cfg: Config) -> str:
    wrk = wrk_binary() if cfg.use_wrk else None
    if wrk:
        return (
            f"{wrk_version(wrk)}: -t{cfg.threads} -c{cfg.connections}"
            f" -d{max(1, round(cfg.duration))}s --latency, Lua script cycling the tile paths"
        )
    return f"Python fallback: {cfg.connections} threads, {cfg.duration:g} s (client-bound)"


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(sys.argv[1:] if argv is None else argv)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    t0 = time.perf_counter()
    cfg.run_dir = WORK / f"rasters-{stamp}-{os.getpid()}"
    cfg.run_dir.mkdir(parents=True)
    gen_started = time.perf_counter()
    cog, cached = raster_data.ensure(WORK, cfg.size, cfg.seed)
    results: dict[str, Any] = {
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "config": {**cfg.__dict__, "results": str(cfg.results), "run_dir": str(cfg.run_dir)},
        "machine": report.machine(),
        "raster_versions": raster_report.versions(),
        "git": report.git_state(),
        "load": describe_load(cfg),
        "data": {
            "size": cfg.size,
            "file": str(cog.relative_to(BENCH.parent)),
            "cached": cached,
            "seconds": round(time.perf_counter() - gen_started, 1),
            "cog_mb": round(cog.stat().st_size / MB, 1),
            "rescale": raster_tiles.RESCALE,
            "districts": str(districts_file(cfg.seed).relative_to(BENCH.parent)),
        },
        "stores": {},
        "titiler": {},
        "notes": [],
    }
    for kind in cfg.stores:
        results["stores"][kind] = run_store(cfg, kind, results)
    results["targets"] = raster_report.judge(results)
    runs = [*results["stores"].values(), *([results["titiler"]] if cfg.peers else [])]
    failed = any(r.get("status") == "FAILED" for r in runs)
    if failed or cfg.keep:
        results["notes"].append(f"run folder kept: {cfg.run_dir.relative_to(BENCH.parent)}")
    else:
        shutil.rmtree(cfg.run_dir, ignore_errors=True)
    results["wall_seconds"] = round(time.perf_counter() - t0, 1)
    results["machine"]["loadavg_end"] = report.loadavg()
    json_path, md_path = raster_report.write(results, cfg.results, stamp)
    print(md_path.read_text())
    print(f"results: {json_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark gis-service end to end: generate, import, serve, check, then load with wrk.

    .venv/bin/python bench/run.py [--count 1000000] [--stores geopackage,postgis]
        [--duration 10] [--workers 2] [--quick] [--results DIR] [--profile]

Every workload is checked for correct answers before it is timed; a wrong answer is
reported as FAILED instead of a number. Servers and clusters started here are always
stopped. Everything binds and targets 127.0.0.1 only. See bench/README.md.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.*, tests.pgcluster

from bench import checks, generate, peers, procs, queries, report, tiles
from bench.checks import Dataset
from bench.loadgen import LoadResult, run_python, run_wrk, wrk_binary, wrk_version
from bench.loading import (
    COLLECTION,
    MB,
    bench_env,
    display_url,
    import_store,
    postgres_version,
    time_ogr2ogr,
)
from bench.workloads import Target, add_ratios, request_lists, run_target

BENCH = Path(__file__).resolve().parent
WORK = BENCH / "work"
DEEP_PAGE = 900
QUICK_COUNT = 20_000
ALL_STORES = ("geopackage", "postgis")


@dataclass
class Config:
    count: int
    seed: int
    stores: list[str]
    duration: float
    workers: int
    threads: int
    connections: int
    quick: bool
    results: Path
    use_wrk: bool
    profile: bool
    keep: bool
    peers: bool
    tiles: bool
    only: frozenset[str] | None
    argv: str
    run_dir: Path = WORK  # per-run folder (stores, logs, request lists), set by main()
    w6: dict[str, Any] | None = None  # W6 tile lists and the generated layers, set by main()

    def wants(self, name: str) -> bool:
        return self.only is None or name in self.only

    @property
    def paging_repeats(self) -> int:
        return 20 if self.quick else 200

    @property
    def deep_page(self) -> int:
        return max(2, min(DEEP_PAGE, self.count // checks.LIMIT))


def parse_args(argv: list[str]) -> Config:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, help=f"points (default 1000000, --quick {QUICK_COUNT})")
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    p.add_argument("--stores", default=",".join(ALL_STORES), help="comma-separated")
    p.add_argument("--duration", type=float, help="seconds per timed run (default 10, quick 1)")
    p.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    p.add_argument("--threads", type=int, default=2, help="wrk threads")
    p.add_argument("--connections", type=int, default=16, help="concurrent connections")
    p.add_argument("--quick", action="store_true", help="small data, 1 s runs: a smoke run")
    p.add_argument("--results", type=Path, default=BENCH / "results", help="output folder")
    p.add_argument("--no-wrk", action="store_true", help="use the Python load loop")
    p.add_argument(
        "--profile", action="store_true", help="py-spy the server in W1 and uncached W6"
    )
    p.add_argument("--keep", action="store_true", help="keep this run's folder in bench/work/")
    p.add_argument(
        "--peers",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="also measure pygeoapi and tipg (default: on, off with --quick)",
    )
    p.add_argument(
        "--tiles",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="run W6, vector tiles (default: on, off with --quick unless --only names it)",
    )
    p.add_argument("--only", help="comma-separated workloads, e.g. W0,W6 (W0 always runs)")
    a = p.parse_args(argv)
    only = frozenset(w.strip() for w in a.only.split(",") if w.strip()) if a.only else None
    stores = [s.strip() for s in a.stores.split(",") if s.strip()]
    unknown = set(stores) - set(ALL_STORES)
    if unknown or not stores:
        p.error(f"--stores takes {', '.join(ALL_STORES)}; got {a.stores!r}")
    count = a.count or (QUICK_COUNT if a.quick else generate.DEFAULT_COUNT)
    if count < 1000:
        p.error("--count must be at least 1000")
    return Config(
        count=count,
        seed=a.seed,
        stores=stores,
        duration=a.duration or (1.0 if a.quick else 10.0),
        workers=a.workers,
        threads=a.threads,
        connections=a.connections,
        quick=a.quick,
        results=a.results,
        use_wrk=not a.no_wrk,
        profile=a.profile,
        keep=a.keep,
        peers=(not a.quick) if a.peers is None else a.peers,
        tiles=(not a.quick or (only is not None and "W6" in only)) if a.tiles is None else a.tiles,
        only=only,
        argv=shlex.join(argv),
    )


def prepare_data(cfg: Config) -> tuple[Path, dict[str, Any]]:
    """The generated file, from the cache under bench/work/ when it is already there."""
    path = generate.default_path(WORK, cfg.count, cfg.seed)
    cached = path.exists()
    started = time.perf_counter()
    if not cached:
        generate.generate(path, cfg.count, cfg.seed)
    extras = generate.generate_extras(WORK, cfg.count, cfg.seed)
    seconds = time.perf_counter() - started
    return path, {
        "extras": {
            name: {"file": str(f.relative_to(BENCH.parent)), "count": n}
            for (name, f), n in zip(
                extras.items(), generate.extra_sizes(cfg.count).values(), strict=True
            )
        },
        "file": str(path.relative_to(BENCH.parent)),
        "count": cfg.count,
        "seed": cfg.seed,
        "cached": cached,
        "seconds": round(seconds, 2),
        "size_mb": round(path.stat().st_size / MB, 1),
    }


class Load:
    """wrk when installed (and not refused), else the Python loop; says which in the report."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.wrk = wrk_binary() if cfg.use_wrk else None
        if self.wrk:
            self.description = (
                f"{wrk_version(self.wrk)}: -t{cfg.threads} -c{cfg.connections}"
                f" -d{max(1, round(cfg.duration))}s --latency, Lua script cycling request paths"
            )
        else:
            why = "disabled by --no-wrk" if not cfg.use_wrk else "wrk is not installed"
            self.description = (
                f"Python fallback ({why}): {cfg.connections} threads with keep-alive"
                f" http.client connections, {cfg.duration:g} s; numbers are client-bound"
            )

    def run(self, port: int, paths: list[str], name: str) -> LoadResult:
        paths_file = self.cfg.run_dir / "paths" / f"{name}.txt"
        paths_file.parent.mkdir(parents=True, exist_ok=True)
        paths_file.write_text("\n".join(paths) + "\n")
        if self.wrk:
            return run_wrk(
                self.wrk,
                port,
                paths_file,
                duration=self.cfg.duration,
                threads=self.cfg.threads,
                connections=self.cfg.connections,
            )
        return run_python(port, paths, duration=self.cfg.duration, connections=self.cfg.connections)


def run_workloads(
    cfg: Config, target: Target, server: procs.Server, data: Dataset, load: Load
) -> dict[str, dict[str, Any]]:
    """All workloads against one server, the server's memory sampled meanwhile."""
    profile = cfg.results / f"profile-{target.name}-W1.txt" if cfg.profile else None
    with procs.RssSampler(server.pid) as rss:
        out = run_target(
            target,
            server,
            rss,
            data,
            request_lists(data, cfg.seed),
            load,
            deep_page=cfg.deep_page,
            paging_repeats=cfg.paging_repeats,
            profile=profile,
            only=cfg.only,
        )
    out["_server"] = {
        "start_seconds": round(server.start_seconds, 2),
        "workers": cfg.workers,
        "peak_rss_mb": round(rss.peak / MB, 1),
        "peak_pss_mb": round(rss.peak_pss / MB, 1),
        "processes": len(procs.process_tree(server.pid)),
    }
    return out


def bench_store(
    cfg: Config, kind: str, store: str, source: Path, data: Dataset, load: Load
) -> dict[str, Any]:
    """Import, then serve and measure one store; the server is stopped whatever happens."""
    result: dict[str, Any] = {"status": "ok", "store": display_url(store)}
    if kind == "postgis":
        result["server_version"] = postgres_version(store)
    print(f"[{kind}] importing {cfg.count:,} points ...", flush=True)
    result["import"] = import_store(source, store, cfg.count)
    print(f"[{kind}] import took {result['import']['seconds']} s", flush=True)
    result["import_other_layers"] = {
        name: import_store(path, store, n, collection=name, temporal=None)
        for (name, path), n in zip(
            generate.extra_paths(WORK, cfg.count, cfg.seed).items(),
            generate.extra_sizes(cfg.count).values(),
            strict=True,
        )
    }
    if cfg.wants("W7"):
        result["ogr2ogr"] = time_ogr2ogr(kind, source, store, cfg.run_dir)
    log = cfg.run_dir / f"server-{kind}.log"
    target = Target(name=kind, collection=COLLECTION, tiles=tiles.OURS)
    with procs.serve(store, workers=cfg.workers, env=bench_env(), log=log) as server:
        print(f"[{kind}] serving on 127.0.0.1:{server.port}; checking and measuring", flush=True)
        workloads = run_workloads(cfg, target, server, data, load)
        result["server"] = workloads.pop("_server")
        if cfg.w6:
            w6 = cfg.w6
            cached = tiles.run(
                target.tiles, kind, server.port, w6["lists"], w6["truths"], load, "cached"
            )
            workloads["W6"] = {"status": "ok", "cached": cached}
            _w0_again(workloads.get("W0"), load, server.port, kind)
        add_ratios(workloads, workloads.get("W0"))
        result["workloads"] = workloads
    if cfg.w6:
        workloads["W6"]["uncached"] = uncached_tiles(cfg, kind, store, load)
        _w6_status(workloads["W6"])
    failed = [k for k, w in result["workloads"].items() if w["status"] == "FAILED"]
    if failed:
        result["status"] = "FAILED"
        result["reason"] = f"workloads failed: {', '.join(failed)}"
    return result


def uncached_tiles(cfg: Config, kind: str, store: str, load: Load) -> dict[str, Any]:
    """W6 on a second server whose tile cache is off (GIS_TILE_CACHE_MB=0): every request
    renders its tile, as the first request for a tile does."""
    assert cfg.w6 is not None
    env = {**bench_env(), "GIS_TILE_CACHE_MB": "0"}
    log = cfg.run_dir / f"server-{kind}-uncached.log"
    with procs.serve(store, workers=cfg.workers, env=env, log=log) as server:
        print(f"[{kind}] W6 uncached on 127.0.0.1:{server.port}", flush=True)
        spy = (server.pid, cfg.results) if cfg.profile else None
        return tiles.run(
            tiles.OURS, kind, server.port, cfg.w6["lists"], cfg.w6["truths"], load, "uncached", spy
        )


def _w0_again(w0: dict[str, Any] | None, load: Load, port: int, kind: str) -> None:
    """W0 once more after the cached tiles, so the ratio's base spans them too."""
    if not w0 or w0.get("status") != "ok":
        return
    again = load.run(port, ["/health"], f"{kind}-W0-after-W6")
    runs = w0.setdefault("runs", [[w0["rps"], w0["p50_ms"]]])
    runs.append([round(again.rps, 1), round(again.p50_ms, 3)])
    w0["rps"] = round(sum(r[0] for r in runs) / len(runs), 1)
    w0["p50_ms"] = round(sum(r[1] for r in runs) / len(runs), 2)


def _w6_status(w6: dict[str, Any]) -> None:
    runs = [e for part in ("cached", "uncached") for e in w6.get(part, {}).values()]
    failed = [e for e in runs if e.get("status") != "ok"]
    if failed:
        w6["status"] = "FAILED"
        w6["reason"] = failed[0].get("reason", "")


def run_peer(
    cfg: Config, name: str, source: Path, url: str | None, data: Dataset, load: Load, base: Any
) -> dict[str, Any]:
    """A peer on the same data after our store's run; ratios are to that store's W0."""
    log = cfg.run_dir / f"install-{name}.log"
    print(f"[{name}] installing / serving", flush=True)
    try:
        out: dict[str, Any] = {"status": "ok", "setup": peers.SETUP[name]}
        if name == "pygeoapi":
            venv = peers.install_pygeoapi(log)
            out["versions"] = peers.versions(venv, ["pygeoapi", "gunicorn", "uvicorn", "GDAL"])
            serving = peers.serve_pygeoapi(venv, source, cfg.workers, cfg.run_dir)
        else:
            assert url is not None
            venv = peers.install_tipg(log)
            out["versions"] = peers.versions(venv, ["tipg", "uvicorn", "httptools", "uvloop"])
            out["load"] = peers.load_peer_table(url, source)
            serving = peers.serve_tipg(venv, url, cfg.workers, cfg.run_dir)
            if cfg.w6:
                out["load_coverage"] = peers.load_peer_coverage(url, cfg.w6["coverage_file"])
        with serving as (server, target):
            workloads = run_workloads(cfg, target, server, data, load)
            if cfg.w6 and target.tiles:
                w6 = cfg.w6
                uncached = tiles.run(
                    target.tiles, name, server.port, w6["lists"], None, load, "uncached"
                )
                workloads["W6"] = {"status": "ok", "uncached": uncached}
                _w6_status(workloads["W6"])
        out["server"] = workloads.pop("_server")
        add_ratios(workloads, base)
        out["workloads"] = workloads
        failed = [k for k, w in workloads.items() if w["status"] == "FAILED"]
        if failed:
            out["status"] = "FAILED"
            out["reason"] = f"workloads failed: {', '.join(failed)}"
        return out
    except Exception as exc:  # a peer's trouble must not lose our results
        return {"status": "FAILED", "reason": f"{type(exc).__name__}: {exc}"}


def run_store(
    cfg: Config, kind: str, source: Path, data: Dataset, load: Load, results: dict[str, Any]
) -> dict[str, Any]:
    """One store from start to finish, including its own PostGIS cluster when needed; the
    store's peer (pygeoapi on the GeoPackage, tipg on PostGIS) runs right after it."""
    peer = "pygeoapi" if kind == "geopackage" else "tipg"
    try:
        if kind == "geopackage":
            folder = cfg.run_dir / "store-geopackage"
            out = bench_store(cfg, kind, str(folder), source, data, load)
            out["source"] = "a fresh folder under bench/work/"
            if cfg.peers and any(cfg.wants(w) for w in ("W1", "W2", "W3", "W4")):
                base = out.get("workloads", {}).get("W0")
                results["peers"][peer] = run_peer(cfg, peer, source, None, data, load, base)
            return out
        with procs.postgis_url() as (url, how):
            if url is None:
                return {"status": "SKIPPED", "reason": how}
            out = bench_store(cfg, kind, url, source, data, load)
            out["source"] = how
            if cfg.peers:
                base = out.get("workloads", {}).get("W0")
                results["peers"][peer] = run_peer(cfg, peer, source, url, data, load, base)
            return out
    except (RuntimeError, OSError, ValueError) as exc:
        return {"status": "FAILED", "reason": str(exc)}
    except Exception as exc:  # a store error must not lose the other store's results
        return {"status": "FAILED", "reason": f"{type(exc).__name__}: {exc}"}


def tile_data(cfg: Config, data: Dataset) -> dict[str, Any]:
    """W6's tile lists and the generated layers its answers are compared with."""
    coverage = generate.extra_paths(WORK, cfg.count, cfg.seed)["coverage"]
    polygons = tiles.Polygons.read(coverage)
    return {
        "lists": tiles.tile_lists(data, polygons, cfg.seed),
        "truths": {"facilities": data, "coverage": polygons},
        "coverage_file": coverage,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cfg = parse_args(argv)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    t0 = time.perf_counter()
    cfg.run_dir = WORK / f"run-{stamp}-{os.getpid()}"
    cfg.run_dir.mkdir(parents=True)
    apt_note = peers.ensure_debian_packages(cfg.run_dir / "apt.log") if cfg.peers else None
    source, data_info = prepare_data(cfg)
    print(f"data: {data_info['file']} ({'cached' if data_info['cached'] else 'generated'})")
    lon, lat = generate.sample_points(cfg.count, cfg.seed)
    data = queries.with_attributes(Dataset(lon=lon, lat=lat), cfg.count, cfg.seed)
    load = Load(cfg)
    if cfg.tiles:
        cfg.w6 = tile_data(cfg, data)
    results: dict[str, Any] = {
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "config": {
            **{k: v for k, v in cfg.__dict__.items() if k != "w6"},
            "only": sorted(cfg.only) if cfg.only else None,
            "results": str(cfg.results),
            "run_dir": str(cfg.run_dir),
        },
        "machine": report.machine(),
        "git": report.git_state(),
        "load": {"tool": "wrk" if load.wrk else "python", "description": load.description},
        "data": data_info,
        "stores": {},
        "peers": {},
        "notes": [] if load.wrk else [f"wrk not used: {load.description}"],
    }
    if apt_note:
        results["notes"].append(f"Debian packages for the peers and ogr2ogr: {apt_note}")
    for kind in cfg.stores:
        results["stores"][kind] = run_store(cfg, kind, source, data, load, results)
    tipg = results["peers"].get("tipg", {}).get("workloads", {}).get("W6")
    for store in results["stores"].values():
        w = store.get("workloads", {})
        if "W6" in w:
            tiles.ratios(w["W6"], w.get("W0", {}).get("rps"), tipg)
    runs = {**results["stores"], **results["peers"]}
    failed = [k for k, s in runs.items() if s["status"] == "FAILED"]
    if failed or cfg.keep:
        results["notes"].append(f"run folder kept: {cfg.run_dir.relative_to(BENCH.parent)}")
    else:
        shutil.rmtree(cfg.run_dir, ignore_errors=True)  # a 1M-point store is ~0.3 GB
    results["wall_seconds"] = round(time.perf_counter() - t0, 1)
    results["machine"]["loadavg_end"] = report.loadavg()
    json_path, md_path = report.write_results(results, cfg.results, stamp)
    print(md_path.read_text())
    print(f"results: {json_path}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

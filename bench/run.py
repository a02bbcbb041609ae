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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.*, tests.pgcluster

import numpy as np

from bench import checks, generate, procs, pyspy, report
from bench.checks import CheckFailed, Dataset
from bench.loadgen import Client, LoadResult, run_python, run_wrk, wrk_binary, wrk_version
from bench.loading import (
    COLLECTION,
    MB,
    bench_env,
    display_url,
    import_store,
    postgres_version,
    time_ogr2ogr,
)

BENCH = Path(__file__).resolve().parent
WORK = BENCH / "work"
N_BOXES = 200
N_IDS = 500
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
    argv: str
    run_dir: Path = WORK  # per-run folder (stores, logs, request lists), set by main()

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
    p.add_argument("--profile", action="store_true", help="py-spy the server during W1")
    p.add_argument("--keep", action="store_true", help="keep this run's folder in bench/work/")
    a = p.parse_args(argv)
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
        argv=shlex.join(argv),
    )


def prepare_data(cfg: Config) -> tuple[Path, dict[str, Any]]:
    """The generated file, from the cache under bench/work/ when it is already there."""
    path = generate.default_path(WORK, cfg.count, cfg.seed)
    cached = path.exists()
    started = time.perf_counter()
    if not cached:
        generate.generate(path, cfg.count, cfg.seed)
    seconds = time.perf_counter() - started
    return path, {
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


def measure(
    name: str,
    paths: list[str],
    check: Callable[[], dict[str, Any]],
    server: procs.Server,
    rss: procs.RssSampler,
    load: Load,
    profile: Path | None = None,
) -> dict[str, Any]:
    """Check first; only a workload that answered correctly gets timed."""
    try:
        verdict = check()
    except (CheckFailed, RuntimeError, OSError, ValueError, KeyError, TypeError) as exc:
        return {"status": "FAILED", "reason": f"correctness check: {exc}"}
    rss.new_window()
    spy = pyspy.start(server.pid, load.cfg.duration, profile) if profile else None
    try:
        result = load.run(server.port, paths, name)
    finally:
        profile_summary = pyspy.finish(spy, profile) if spy and profile else None
    entry: dict[str, Any] = {
        "status": "ok",
        "check": verdict,
        "distinct_paths": len(paths),
        **result.as_dict(),
        "peak_rss_mb": round(rss.window_peak / MB, 1),
    }
    if profile_summary:
        entry["profile"] = profile_summary
    if result.status_errors or not result.requests:
        entry["status"] = "FAILED"
        entry["reason"] = f"{result.status_errors} error responses of {result.requests}"
    return entry


def add_ratios(workloads: dict[str, dict[str, Any]]) -> None:
    """Each workload relative to W0 on the same store: what the store work costs."""
    base = workloads.get("W0", {})
    if base.get("status") != "ok":
        return
    for entry in workloads.values():
        if entry.get("status") == "ok" and "rps" in entry and "p50_ms" in entry:
            entry["rps_ratio_to_w0"] = round(entry["rps"] / base["rps"], 4)
            entry["p50_ratio_to_w0"] = round(entry["p50_ms"] / base["p50_ms"], 2)


def run_workloads(
    cfg: Config,
    kind: str,
    server: procs.Server,
    rss: procs.RssSampler,
    data: Dataset,
    load: Load,
) -> dict[str, dict[str, Any]]:
    rng = np.random.default_rng([cfg.seed, 2])
    boxes = checks.random_boxes(data, N_BOXES, rng)
    ids = rng.integers(1, data.count + 1, N_IDS)
    client = Client(server.port)
    profile = cfg.results / f"profile-{kind}-W1.txt" if cfg.profile else None
    try:
        out = {
            "W0": measure(
                "W0", ["/health"], lambda: checks.check_health(client), server, rss, load
            ),
            "W1": measure(
                "W1",
                checks.bbox_paths(COLLECTION, boxes),
                lambda: checks.check_bbox_workload(client, COLLECTION, data, boxes),
                server,
                rss,
                load,
                profile,
            ),
            "W2": measure(
                "W2",
                checks.item_paths(COLLECTION, ids),
                lambda: checks.check_item_workload(client, COLLECTION, data, ids),
                server,
                rss,
                load,
            ),
        }
        add_ratios(out)
        out["deep_paging"] = paging(client, data, cfg)
    finally:
        client.close()
    return out


def paging(client: Client, data: Dataset, cfg: Config) -> dict[str, Any]:
    try:
        return checks.deep_paging(client, COLLECTION, data, cfg.deep_page, cfg.paging_repeats)
    except (CheckFailed, RuntimeError, OSError, ValueError, KeyError, TypeError) as exc:
        return {"status": "FAILED", "reason": f"{exc}"}


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
    result["ogr2ogr"] = time_ogr2ogr(kind, source, store, cfg.run_dir)
    log = cfg.run_dir / f"server-{kind}.log"
    with procs.serve(store, workers=cfg.workers, env=bench_env(), log=log) as server:
        print(f"[{kind}] serving on 127.0.0.1:{server.port}; checking and measuring", flush=True)
        with procs.RssSampler(server.pid) as rss:
            result["workloads"] = run_workloads(cfg, kind, server, rss, data, load)
        result["server"] = {
            "start_seconds": round(server.start_seconds, 2),
            "workers": cfg.workers,
            "peak_rss_mb": round(rss.peak / MB, 1),
            "peak_pss_mb": round(rss.peak_pss / MB, 1),
            "processes": len(procs.process_tree(server.pid)),
        }
    failed = [k for k, w in result["workloads"].items() if w["status"] != "ok"]
    if failed:
        result["status"] = "FAILED"
        result["reason"] = f"workloads failed: {', '.join(failed)}"
    return result


def run_store(cfg: Config, kind: str, source: Path, data: Dataset, load: Load) -> dict[str, Any]:
    """One store from start to finish, including its own PostGIS cluster when needed."""
    try:
        if kind == "geopackage":
            folder = cfg.run_dir / "store-geopackage"
            out = bench_store(cfg, kind, str(folder), source, data, load)
            out["source"] = "a fresh folder under bench/work/"
            return out
        with procs.postgis_url() as (url, how):
            if url is None:
                return {"status": "SKIPPED", "reason": how}
            out = bench_store(cfg, kind, url, source, data, load)
            out["source"] = how
            return out
    except (RuntimeError, OSError, ValueError) as exc:
        return {"status": "FAILED", "reason": str(exc)}
    except Exception as exc:  # a store error must not lose the other store's results
        return {"status": "FAILED", "reason": f"{type(exc).__name__}: {exc}"}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    cfg = parse_args(argv)
    started = datetime.now(UTC)
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    t0 = time.perf_counter()
    cfg.run_dir = WORK / f"run-{stamp}-{os.getpid()}"
    cfg.run_dir.mkdir(parents=True)
    source, data_info = prepare_data(cfg)
    print(f"data: {data_info['file']} ({'cached' if data_info['cached'] else 'generated'})")
    lon, lat = generate.sample_points(cfg.count, cfg.seed)
    data = Dataset(lon=lon, lat=lat)
    load = Load(cfg)
    results: dict[str, Any] = {
        "started": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "config": {**cfg.__dict__, "results": str(cfg.results), "run_dir": str(cfg.run_dir)},
        "machine": report.machine(),
        "git": report.git_state(),
        "load": {"tool": "wrk" if load.wrk else "python", "description": load.description},
        "data": data_info,
        "stores": {},
        "notes": [] if load.wrk else [f"wrk not used: {load.description}"],
    }
    for kind in cfg.stores:
        results["stores"][kind] = run_store(cfg, kind, source, data, load)
    failed = [k for k, s in results["stores"].items() if s["status"] == "FAILED"]
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

"""W5: downloads of a whole 1,000,000-feature layer through a real server.

    .venv/bin/python bench/exports.py [--count 1000000] [--stores geopackage,postgis]
        [--formats geojson,gpkg] [--workers 1] [--keep]

Loads the benchmark data like bench/run.py (same generator, same `gis-service import`),
serves it with `gis-service serve`, then downloads `/collections/facilities/items?f=...`
once per format, reading as fast as the socket allows. Reports MB/s, the server's CPU
seconds and its RSS growth during the download over its RSS just before it (after a
10-feature download of the same format has loaded its libraries), after checking every
answer has all the features. See bench/README.md (W5).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench.*, tests.pgcluster

from bench import generate, procs
from bench.loading import COLLECTION, MB, bench_env, import_store

BENCH = Path(__file__).resolve().parent
WORK = BENCH / "work"
CHUNK = 1 << 20


def download(port: int, fmt: str, sink: Path | None, query: str = "") -> tuple[int, float, bytes]:
    """Bytes received, seconds from request to last byte, and the answer's last bytes."""
    conn = http.client.HTTPConnection(procs.HOST, port, timeout=600)
    started = time.perf_counter()
    conn.request("GET", f"/collections/{COLLECTION}/items?f={fmt}{query}")
    res = conn.getresponse()
    if res.status != 200:
        raise RuntimeError(f"f={fmt}: HTTP {res.status}: {res.read(500)!r}")
    size, tail = 0, b""
    out = sink.open("wb") if sink is not None else None
    try:
        while chunk := res.read(CHUNK):
            size += len(chunk)
            tail = (tail + chunk)[-256:]
            if out is not None:
                out.write(chunk)
    finally:
        if out is not None:
            out.close()
        conn.close()
    return size, time.perf_counter() - started, tail


def cpu_seconds(root: int) -> float:
    """User + system CPU of a process tree so far: the server's work whatever the load."""
    ticks = 0
    for pid in procs.process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def listening_pid(port: int) -> int | None:
    """The process listening on a local TCP port (PostgreSQL's postmaster), via /proc."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(f"socket:[{fields[9]}]")
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(os.readlink(fd) in inodes for fd in (proc / "fd").iterdir()):
                return int(proc.name)
        except OSError:
            continue
    return None


def database_pid(store: str) -> int | None:
    """PostgreSQL's postmaster for a postgresql:// store on this machine, else None."""
    from urllib.parse import urlsplit

    if not store.startswith("postgresql://"):
        return None
    parts = urlsplit(store)
    if parts.hostname not in ("127.0.0.1", "localhost", None):
        return None
    return listening_pid(parts.port or 5432)


def check(fmt: str, count: int, tail: bytes, sink: Path | None) -> str:
    """Every feature is there: GeoJSON's closing numberReturned, or GDAL's feature count."""
    if fmt == "geojson":
        expected = b'"numberReturned":%d,' % count
        if expected not in tail:
            raise RuntimeError(f"f=geojson: no {expected!r} at the end: {tail[-120:]!r}")
        return f"numberReturned = {count:,}"
    import pyogrio

    assert sink is not None
    features = pyogrio.read_info(sink)["features"]
    if features != count:
        raise RuntimeError(f"f={fmt}: {features:,} features, expected {count:,}")
    return f"GDAL reads {features:,} features"


def bench_store(kind: str, store: str, source: Path, args: argparse.Namespace) -> dict[str, Any]:
    print(f"[{kind}] importing {args.count:,} points ...", flush=True)
    result: dict[str, Any] = {"import": import_store(source, store, args.count), "downloads": {}}
    log = args.run_dir / f"server-{kind}.log"
    database = database_pid(store)  # its CPU is the download's too (same two cores)
    with procs.serve(store, workers=args.workers, env=bench_env(), log=log) as server:
        for fmt in args.formats:
            sink = None if fmt == "geojson" else args.run_dir / f"download-{kind}.{fmt}"
            # A first small download loads what the format needs (GDAL, Arrow: ~100 MB the
            # first time in a worker); that is counted apart from the download's own growth.
            idle = procs.RssSampler(server.pid).sample()
            warm_sink = None if sink is None else sink.with_suffix(".warm")
            download(server.port, fmt, warm_sink, "&limit=10")
            if warm_sink is not None:
                warm_sink.unlink()
            with procs.RssSampler(server.pid, interval=0.1) as rss:
                before = rss.sample()
                cpu_before, load = cpu_seconds(server.pid), os.getloadavg()[0]
                db_before = cpu_seconds(database) if database else 0.0
                size, seconds, tail = download(server.port, fmt, sink)
                cpu = cpu_seconds(server.pid) - cpu_before
                db_cpu = cpu_seconds(database) - db_before if database else None
            checked = check(fmt, args.count, tail, sink)
            if sink is not None:
                sink.unlink()
            row = {
                "bytes": size,
                "seconds": round(seconds, 2),
                "mb_per_s": round(size / MB / seconds, 1),
                "features_per_s": round(args.count / seconds),
                # Load-independent: MB per CPU second of the server (the database's excluded).
                "server_cpu_s": round(cpu, 2),
                "mb_per_server_cpu_s": round(size / MB / cpu, 1) if cpu else None,
                # PostgreSQL's processes (the cluster on this machine), when there is one.
                "database_cpu_s": None if db_cpu is None else round(db_cpu, 2),
                "load_average_before": round(load, 2),
                "rss_before_mb": round(before / MB, 1),
                "rss_peak_mb": round(rss.peak / MB, 1),
                "rss_growth_mb": round((rss.peak - before) / MB, 1),
                "rss_first_use_mb": round((before - idle) / MB, 1),
                "check": checked,
            }
            result["downloads"][fmt] = row
            print(f"[{kind}] f={fmt}: {row}", flush=True)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--count", type=int, default=generate.DEFAULT_COUNT)
    p.add_argument("--seed", type=int, default=generate.DEFAULT_SEED)
    p.add_argument("--stores", default="geopackage,postgis")
    p.add_argument("--formats", default="geojson,gpkg")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--results", type=Path, default=BENCH / "results")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)
    args.stores = args.stores.split(",")
    args.formats = args.formats.split(",")
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    args.run_dir = WORK / f"exports-{stamp}-{os.getpid()}"
    args.run_dir.mkdir(parents=True)
    source = generate.default_path(WORK, args.count, args.seed)
    if not source.exists():
        generate.generate(source, args.count, args.seed)
    results: dict[str, Any] = {"workload": "W5", "started": stamp, "count": args.count}
    try:
        for kind in args.stores:
            if kind == "geopackage":
                store = str(args.run_dir / "store-geopackage")
                results[kind] = bench_store(kind, store, source, args)
                continue
            with procs.postgis_url() as (url, how):
                if url is None:
                    results[kind] = {"status": "SKIPPED", "reason": how}
                    continue
                results[kind] = bench_store(kind, url, source, args)
    finally:
        if not args.keep:
            shutil.rmtree(args.run_dir, ignore_errors=True)
    args.results.mkdir(parents=True, exist_ok=True)
    out = args.results / f"exports-{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Loading the benchmark data (W7): the project's import, GDAL's ogr2ogr for scale, and the
environment every benchmark process of a store runs with."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path
from typing import Any

from bench import procs

COLLECTION = "facilities"
PG_SCHEMA = "bench"  # keeps a given database's own collections out of the way
MB = 2**20


def bench_env() -> dict[str, str]:
    env = dict(os.environ)
    env["GIS_POSTGIS_SCHEMA"] = PG_SCHEMA
    env.pop("GIS_STORE", None)  # --store is always passed explicitly
    return env


def display_url(store: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", store)


def import_store(
    source: Path,
    store: str,
    count: int,
    collection: str = COLLECTION,
    temporal: str | None = "opened",
    env: dict[str, str] | None = None,
) -> dict[str, Any]:
    """W7: the project's own `gis-service import`, timed from process start to exit
    (`env`: the process environment, `bench_env()` by default)."""
    cmd = [
        *procs.gis_service_command(),
        "import",
        str(source),
        "--collection",
        collection,
        "--title",
        f"Benchmark {collection}",
        *(["--temporal", temporal] if temporal else []),
        "--store",
        store,
    ]
    timed = procs.run_timed(cmd, env=env or bench_env(), timeout=3600)
    reported = re.search(r"^seconds\s+([\d.]+)", timed.stdout, re.MULTILINE)
    inner = float(reported.group(1)) if reported else None
    return {
        "workload": "W7",
        "seconds": round(timed.seconds, 2),
        "reported_seconds": inner,
        "rows_per_second": round(count / (inner or timed.seconds)),
        "peak_rss_mb": round(timed.peak_rss / MB, 1),
        "output": timed.stdout.strip().splitlines(),
    }


def time_ogr2ogr(kind: str, source: Path, store: str, run_dir: Path) -> dict[str, Any]:
    """The same load with GDAL's own tool, for scale; skipped when it is not on PATH."""
    binary = shutil.which("ogr2ogr")
    if binary is None:
        return {"note": "not installed"}
    if kind == "geopackage":
        target = run_dir / "ogr2ogr-out.gpkg"
        cmd = [binary, "-f", "GPKG", str(target), str(source)]
    else:
        from psycopg.conninfo import make_conninfo

        cmd = [
            binary,
            "-f",
            "PostgreSQL",
            f"PG:{make_conninfo(store)}",
            str(source),
            "-nln",
            f"{PG_SCHEMA}.ogr2ogr_facilities",
            "-overwrite",
        ]
    try:
        timed = procs.run_timed(cmd, env=bench_env(), timeout=3600)
    except RuntimeError as exc:
        return {"note": f"failed: {exc}"}
    return {"seconds": round(timed.seconds, 2), "peak_rss_mb": round(timed.peak_rss / MB, 1)}


def postgres_version(store: str) -> str:
    import psycopg

    with psycopg.connect(store, connect_timeout=10) as conn:
        row = conn.execute(
            "SELECT split_part(version(), ' on ', 1), postgis_lib_version(),"
            " current_setting('shared_buffers')"
        ).fetchone()
    assert row is not None
    return f"{row[0]}, PostGIS {row[1]}, shared_buffers={row[2]}"

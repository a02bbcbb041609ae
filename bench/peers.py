"""Peer servers on the same data, each in its documented production setup, in its own venv.

- pygeoapi 0.21 (OGR provider on the generated GeoPackage: GDAL's R-tree serves the bbox),
  served by gunicorn with uvicorn workers. Its OGR provider needs GDAL's Python bindings,
  which are not on PyPI as wheels: the venv is made from Debian's python3 with
  `--system-site-packages` and `python3-gdal` (apt-get installs it when missing and root).
- tipg 1.6.1 on a PostGIS copy of the same file with the real column names (schema `peer`,
  GiST index, ANALYZE), served by uvicorn[standard].

Venvs live in bench/work/peers/ (git-ignored) and are reused once installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench import procs
from bench.loadgen import HOST
from bench.tiles import TIPG as TIPG_TILES
from bench.workloads import Target

WORK = Path(__file__).resolve().parent / "work" / "peers"
TIPG = "tipg==1.6.1"
PYGEOAPI = "pygeoapi==0.21.0"
SERVER_PACKAGES = ["uvicorn[standard]"]
PEER_SCHEMA = "peer"
SYSTEM_PYTHON = "/usr/bin/python3"
SETUP = {
    "pygeoapi": "OGR provider on the generated GeoPackage (R-tree), gunicorn with uvicorn"
    " workers (pygeoapi.starlette_app), same worker count;",
    "tipg": "PostGIS copy in schema peer with the real column names, GiST index, ANALYZE;"
    " uvicorn[standard] tipg.main:app, same worker count;",
}
NO_NUMBER_MATCHED = (
    "no numberMatched in its pages (the OGR provider counts only for resulttype=hits)"
)
NO_CQL2 = "the OGR provider has no CQL2: filter= is ignored, the answer is unfiltered"
NO_TILES = "pygeoapi serves tiles only from pre-built tile sets"


def _pip_install(venv: Path, packages: list[str], log: Path) -> None:
    marker = venv / f".bench-installed-{'-'.join(sorted(packages))}".replace("/", "_")
    if marker.exists():
        return
    with open(log, "a") as handle:
        subprocess.run(
            [str(venv / "bin" / "pip"), "install", "--quiet", *packages],
            check=True,
            stdout=handle,
            stderr=subprocess.STDOUT,
            timeout=1200,
        )
    marker.touch()


def _has_osgeo(python: str) -> bool:
    probe = subprocess.run([python, "-c", "import osgeo.ogr"], capture_output=True, check=False)
    return probe.returncode == 0


def _apt_install(packages: list[str], log: Path) -> None:
    """Debian packages the peers need (root only); `apt-get update` first, as apt needs."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        raise RuntimeError(f"needs Debian packages {' '.join(packages)} (run as root to install)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    with open(log, "a") as handle:
        for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
            subprocess.run(cmd, check=True, stdout=handle, stderr=subprocess.STDOUT, env=env)


def ensure_debian_packages(log: Path) -> str:
    """GDAL's Python bindings for pygeoapi's OGR provider, and `ogr2ogr` for W7, installed
    before anything is timed (root only); says what it did, or why the peer will fail."""
    missing = []
    if not (Path(SYSTEM_PYTHON).exists() and _has_osgeo(SYSTEM_PYTHON)):
        missing += ["python3-gdal", "python3-venv"]
    if shutil.which("ogr2ogr") is None:
        missing.append("gdal-bin")
    if not missing:
        return "present"
    try:
        _apt_install(missing, log)
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        return f"not installed: {exc}"
    return f"installed {' '.join(missing)}"


def install_tipg(log: Path) -> Path:
    venv = WORK / "tipg"
    if not (venv / "bin" / "pip").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    _pip_install(venv, [TIPG, *SERVER_PACKAGES], log)
    return venv


def install_pygeoapi(log: Path) -> Path:
    if not Path(SYSTEM_PYTHON).exists():
        raise RuntimeError(f"{SYSTEM_PYTHON} (Debian's, for python3-gdal) is missing")
    if not _has_osgeo(SYSTEM_PYTHON):
        _apt_install(["python3-gdal", "python3-venv"], log)
    venv = WORK / "pygeoapi"
    if not (venv / "bin" / "pip").exists():
        subprocess.run(
            [SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(venv)], check=True
        )
    _pip_install(venv, [PYGEOAPI, "starlette", "gunicorn", *SERVER_PACKAGES], log)
    return venv


def _version(venv: Path, package: str) -> str:
    out = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            f"from importlib import metadata as m; print(m.version('{package}'))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip() or "?"


PYGEOAPI_CONFIG = """\
server:
  bind: {{host: {host}, port: {port}}}
  url: http://{host}:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: 'http://{host}/{{z}}/{{x}}/{{y}}.png', attribution: none}}
logging:
  level: ERROR
metadata:
  identification:
    title: benchmark
    description: benchmark
    keywords: [benchmark]
    keywords_type: theme
    terms_of_service: none
    url: http://{host}
  license: {{name: CC-BY 4.0, url: 'http://{host}/license'}}
  provider: {{name: benchmark, url: 'http://{host}'}}
  contact: {{name: benchmark, email: none@localhost, role: pointOfContact}}
resources:
  facilities:
    type: collection
    title: facilities
    description: synthetic benchmark facilities
    keywords: [facilities]
    extents:
      spatial:
        bbox: [55.3, 24.9, 56.4, 25.6]
        crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84
    providers:
      - type: feature
        name: OGR
        data:
          source_type: GPKG
          source: {source}
          source_capabilities: {{paging: true}}
        id_field: fid
        layer: facilities
"""


@contextmanager
def serve_pygeoapi(
    venv: Path, source: Path, workers: int, run_dir: Path
) -> Iterator[tuple[procs.Server, Target]]:
    """gunicorn -k uvicorn.workers.UvicornWorker pygeoapi.starlette_app:APP, N workers."""
    port = procs.free_port()
    folder = run_dir / "pygeoapi"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "config.yml"
    config.write_text(PYGEOAPI_CONFIG.format(host=HOST, port=port, source=source.resolve()))
    openapi = folder / "openapi.yml"
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    subprocess.run(
        [
            str(venv / "bin" / "pygeoapi"),
            "openapi",
            "generate",
            str(config),
            "--output-file",
            str(openapi),
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    cmd = [
        str(venv / "bin" / "gunicorn"),
        "pygeoapi.starlette_app:APP",
        "--workers",
        str(workers),
        "--worker-class",
        "uvicorn.workers.UvicornWorker",
        "--bind",
        f"{HOST}:{port}",
    ]
    target = Target(
        name="pygeoapi",
        collection="facilities",
        health=None,
        unsupported={"W3": NO_NUMBER_MATCHED, "W4": NO_CQL2, "W6": NO_TILES},
        require_count=False,
        deep_paging=False,
    )
    with procs.serve_command(
        cmd,
        port=port,
        workers=workers,
        env=env,
        log=folder / "server.log",
        ready_path="/collections/facilities",
        cwd=folder,
    ) as server:
        yield server, target


def load_peer_table(url: str, source: Path) -> dict[str, Any]:
    """The generated file into `peer.facilities` with its own column names, GiST, ANALYZE."""
    import time

    import psycopg
    import pyogrio
    import shapely

    started = time.perf_counter()
    meta, table = pyogrio.read_arrow(source)  # rows in fid order: fid i + 1 is row i
    geometry = meta.get("geometry_name") or "wkb_geometry"
    columns = [n for n in table.column_names if n != geometry]
    geoms = shapely.from_wkb(table.column(geometry).to_numpy(zero_copy_only=False))
    ewkb = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    values = [table.column(n).to_pylist() for n in columns]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {PEER_SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {PEER_SCHEMA}")
        conn.execute(
            f"CREATE TABLE {PEER_SCHEMA}.facilities (id integer PRIMARY KEY, name_en text,"
            " name_ar text, category text, capacity integer, opened date, entity text,"
            " geom geometry(Point, 4326))"
        )
        names = ", ".join(columns)
        with (
            conn.cursor() as cur,
            cur.copy(f"COPY {PEER_SCHEMA}.facilities (id, {names}, geom) FROM STDIN") as copy,
        ):
            for i, row in enumerate(zip(*values, ewkb, strict=True)):
                copy.write_row((i + 1, *row))
        conn.execute(f"CREATE INDEX ON {PEER_SCHEMA}.facilities USING gist (geom)")
        conn.execute(f"ANALYZE {PEER_SCHEMA}.facilities")
    return {"seconds": round(time.perf_counter() - started, 1), "columns": columns}


def load_peer_coverage(url: str, source: Path) -> dict[str, Any]:
    """W6's polygon layer into `peer.coverage` (`id` = row + 1, as in our import), GiST."""
    import time

    import psycopg
    import pyogrio
    import shapely

    started = time.perf_counter()
    meta, table = pyogrio.read_arrow(source)
    geometry = meta.get("geometry_name") or "wkb_geometry"
    geoms = shapely.from_wkb(table.column(geometry).to_numpy(zero_copy_only=False))
    ewkb = shapely.to_wkb(shapely.set_srid(geoms, 4326), hex=True, include_srid=True)
    values = [table.column(n).to_pylist() for n in ("operator", "technology", "signal")]
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {PEER_SCHEMA}.coverage")
        conn.execute(
            f"CREATE TABLE {PEER_SCHEMA}.coverage (id integer PRIMARY KEY, operator text,"
            " technology text, signal integer, geom geometry(Polygon, 4326))"
        )
        with (
            conn.cursor() as cur,
            cur.copy(
                f"COPY {PEER_SCHEMA}.coverage (id, operator, technology, signal, geom) FROM STDIN"
            ) as copy,
        ):
            for i, row in enumerate(zip(*values, ewkb, strict=True)):
                copy.write_row((i + 1, *row))
        conn.execute(f"CREATE INDEX ON {PEER_SCHEMA}.coverage USING gist (geom)")
        conn.execute(f"ANALYZE {PEER_SCHEMA}.coverage")
    return {"seconds": round(time.perf_counter() - started, 1)}


@contextmanager
def serve_tipg(
    venv: Path, url: str, workers: int, run_dir: Path
) -> Iterator[tuple[procs.Server, Target]]:
    """uvicorn tipg.main:app --workers N (httptools + uvloop from uvicorn[standard])."""
    port = procs.free_port()
    folder = run_dir / "tipg"
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "TIPG_DB_SCHEMAS": f'["{PEER_SCHEMA}"]',
        "TIPG_MAX_FEATURES_PER_QUERY": "10000",
    }
    cmd = procs.uvicorn_command(venv, "tipg.main:app", port, workers)
    collection = f"{PEER_SCHEMA}.facilities"
    target = Target(
        name="tipg",
        collection=collection,
        health=None,
        tiles=TIPG_TILES,
        deep_paging=False,
    )
    with procs.serve_command(
        cmd,
        port=port,
        workers=workers,
        env=env,
        log=folder / "server.log",
        ready_path=f"/collections/{collection}",
        cwd=folder,
    ) as server:
        yield server, target


def versions(venv: Path, packages: list[str]) -> dict[str, str]:
    return {p: _version(venv, p) for p in packages}

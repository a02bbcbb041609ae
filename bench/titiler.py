"""TiTiler, the raster benchmark's peer: `titiler.application` from PyPI in its own venv
(bench/work/peers/titiler), served by uvicorn[standard] with the same worker count as ours,
reading the very COG file our store serves (by path, `url=`).

Its tile route is `/cog/tiles/{tileMatrixSetId}/{z}/{x}/{y}.png` (column before row, as in
its OpenAPI document); ours is `/{tileMatrix}/{tileRow}/{tileCol}`. Both get the same GDAL
read settings (no sidecar lookups, no .aux.xml), ours from `gis_service.rasters.files`.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from bench import peers, procs

PACKAGE = "titiler.application==2.4.0"
PACKAGES = [PACKAGE, "uvicorn[standard]"]
VERSIONS = ["titiler.application", "titiler.core", "rio-tiler", "rasterio", "uvicorn"]
SETUP = (
    "titiler.application (default app, no server-side cache), uvicorn[standard]"
    " titiler.application.main:app, same worker count, same COG file by path"
)


def install(log: Path) -> Path:
    """The venv, created and filled on first use (a marker file skips it afterwards)."""
    venv = peers.WORK / "titiler"
    if not (venv / "bin" / "pip").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    peers._pip_install(venv, PACKAGES, log)
    return venv


def tile_path(cog: str, z: int, row: int, col: int, rescale: str, colormap: str) -> str:
    """TiTiler's path for our tile (z, row, col), drawn the way ours is."""
    url = quote(cog, safe="/")
    return (
        f"/cog/tiles/WebMercatorQuad/{z}/{col}/{row}.png"
        f"?url={url}&rescale={rescale}&colormap_name={colormap}"
    )


@contextmanager
def serve(venv: Path, workers: int, gdal_env: dict[str, str], log: Path) -> Iterator[procs.Server]:
    """uvicorn titiler.application.main:app --workers N on a free 127.0.0.1 port."""
    port = procs.free_port()
    env = {**os.environ, **gdal_env}
    cmd = procs.uvicorn_command(venv, "titiler.application.main:app", port, workers)
    with procs.serve_command(
        cmd, port=port, workers=workers, env=env, log=log, ready_path="/healthz", cwd=log.parent
    ) as server:
        yield server

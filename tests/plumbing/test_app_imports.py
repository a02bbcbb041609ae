"""API worker processes stay small: serving never loads the ingest stack (GDAL, Arrow)."""

from __future__ import annotations

import subprocess
import sys

from ..conftest import ROOT


def test_serving_does_not_import_gdal_or_arrow(tmp_path):
    code = (
        "import sys, gis_service.asgi, gis_service.cli;"
        "print(sorted(m for m in ('pyogrio', 'pyarrow', 'geopandas', 'pandas', 'tqdm')"
        " if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={"GIS_STORE": str(tmp_path / "store"), "PATH": ""},
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_import_file_is_still_importable_from_the_package():
    from gis_service.ingest import import_file

    assert callable(import_file)

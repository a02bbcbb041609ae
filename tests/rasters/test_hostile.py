"""Hostile rasters answer 4xx and leave nothing behind: no file in the raster folder (its
staging area included), no catalog row, no collection; on both stores."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from gis_service.errors import IngestError
from gis_service.ingest import IngestOptions, import_file

from .tiffs import declared_tiff, write_signal_tif, write_sparse_tif

VRT = (
    b'<VRTDataset rasterXSize="10" rasterYSize="10"><VRTRasterBand dataType="Byte" band="1">'
    b"<SimpleSource><SourceFilename>/etc/passwd</SourceFilename></SimpleSource>"
    b"</VRTRasterBand></VRTDataset>"
)


def _truncated(tmp: Path) -> bytes:
    whole = write_signal_tif(tmp / "whole.tif", 300, 300, tiled=True, blockxsize=64, blockysize=64)
    content = whole.read_bytes()
    return content[: len(content) // 2]


def _truncated_cog(tmp: Path) -> bytes:
    """Directory first (a COG's layout), data cut off: the header alone looks whole."""
    whole = write_signal_tif(tmp / "whole.tif", 300, 300, driver="COG", blocksize=64)
    content = whole.read_bytes()
    return content[: len(content) * 2 // 3]


def _no_crs(tmp: Path) -> bytes:
    path = tmp / "plain.tif"
    profile = dict(driver="GTiff", width=8, height=8, count=1, dtype="uint8")
    with rasterio.open(path, "w", transform=from_origin(0, 8, 1, 1), **profile) as dst:
        dst.write(np.zeros((1, 8, 8), "uint8"))
    return path.read_bytes()


def _zip_with_overview(tmp: Path) -> bytes:
    tif = write_signal_tif(tmp / "z.tif", 64, 64)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.write(tif, "z.tif")
        archive.writestr("z.tif.ovr", declared_tiff(32, 32, 16))
    return buffer.getvalue()


CASES = {
    "vrt-renamed": (lambda tmp: VRT, "not a tif"),
    "png-renamed": (lambda tmp: b"\x89PNG\r\n\x1a\n" + bytes(64), "not a"),
    "huge-declared": (lambda tmp: declared_tiff(10**6, 10**6, 65536), "cells"),
    "absurd-tiles": (lambda tmp: declared_tiff(40000, 40000, 16), "tiles or strips"),
    "bomb": (lambda tmp: write_sparse_tif(tmp / "b.tif", 20000, 20000).read_bytes(), "bomb"),
    "truncated": (_truncated, "truncated"),
    "truncated-cog": (_truncated_cog, "truncated"),
    "no-crs": (_no_crs, "no CRS"),
    "empty": (lambda tmp: b"", "empty"),
}


def _nothing_stored(world, cid: str) -> None:
    assert world.stored_files() == []
    assert world.store.catalog.raster_info(cid) is None
    assert world.store.catalog.versions(cid) == []
    assert world.client.get(f"/collections/{cid}", headers=world.keys["editor"]).status_code == 404


@pytest.mark.parametrize("case", sorted(CASES))
def test_hostile_upload_is_refused_and_stores_nothing(world, tmp_path, case):
    make, expected = CASES[case]
    content = make(tmp_path)
    res = world.client.post(
        "/collections",
        headers=world.keys["editor"],
        data={"id": f"bad-{case}"},
        files={"file": ("data.tif", content)},
    )
    assert 400 <= res.status_code < 500, res.text
    assert res.headers["content-type"].startswith("application/problem+json")
    assert expected in res.json()["detail"], res.json()
    _nothing_stored(world, f"bad-{case}")


def test_a_zip_bringing_its_own_overview_is_refused(world, tmp_path):
    res = world.client.post(
        "/collections",
        headers=world.keys["editor"],
        data={"id": "bad-zip"},
        files={"file": ("data.zip", _zip_with_overview(tmp_path))},
    )
    assert res.status_code == 400, res.text
    _nothing_stored(world, "bad-zip")


def test_a_sidecar_overview_beside_an_imported_file_is_refused(world, tmp_path):
    tif = write_signal_tif(tmp_path / "with-ovr.tif", 64, 64)
    (tmp_path / "with-ovr.tif.ovr").write_bytes(declared_tiff(32, 32, 16))
    with pytest.raises(IngestError, match=r"other files \(with-ovr\.tif\.ovr\)"):
        import_file(world.store, tif, IngestOptions(collection_id="bad-ovr"))
    _nothing_stored(world, "bad-ovr")


def test_a_renamed_vrt_is_refused_on_the_cli_path_too(world, tmp_path):
    """The CLI's own files skip the upload checks: the raster checks refuse it alone."""
    fake = tmp_path / "passwd.tif"
    fake.write_bytes(VRT)
    with pytest.raises(IngestError, match="not a TIFF"):
        import_file(world.store, fake, IngestOptions(collection_id="bad-vrt"))
    _nothing_stored(world, "bad-vrt")


def test_virtual_paths_are_refused(world, tmp_path):
    tif = write_signal_tif(tmp_path / "fine.tif", 64, 64)
    with pytest.raises(IngestError, match="virtual paths"):
        import_file(world.store, Path(f"/vsicurl/http://x/{tif}"), IngestOptions("bad-vsi"))
    res = world.client.post(
        "/collections",
        headers=world.keys["editor"],
        data={"id": "bad-vsi"},
        files={"file": ("/vsizip/x.zip/a.tif", tif.read_bytes())},
    )
    assert res.status_code == 400 and "virtual" in res.json()["detail"]
    _nothing_stored(world, "bad-vsi")


def test_limits_come_from_the_settings(world, tmp_path):
    """The same upload passes under the default limits; a lower one refuses it (CLI path)."""
    tif = write_signal_tif(tmp_path / "ok.tif", 64, 64)
    from gis_service.rasters.limits import RasterLimits

    small = IngestOptions("bad-limit", raster_limits=RasterLimits(max_cells=64 * 64))
    with pytest.raises(IngestError, match="limit 4,096"):
        import_file(world.store, tif, small)
    _nothing_stored(world, "bad-limit")

"""Raster collections on both stores: a GeoTIFF upload or CLI import becomes a COG, with
metadata, access, versions and audit in the same catalog as vector collections."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
import rasterio
from rasterio.warp import transform_bounds
from rio_cogeo.cogeo import cog_validate

from gis_service.rasters import cog_path, open_cog
from gis_service.store import retention

from ..conftest import DATA, run_cli
from .tiffs import NODATA, signal_values


def test_upload_stores_a_cog_with_overviews_and_the_same_values(world, signal_tif):
    res = world.upload("signal", signal_tif, title="Signal", title_ar="الإشارة")
    assert res.status_code == 201, res.text
    body = res.json()
    doc = body["collection"]
    assert doc["kind"] == "coverage" and "itemType" not in doc
    rels = {link["rel"] for link in doc["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/coverage" in rels
    assert "http://www.opengis.net/def/rel/ogc/1.0/coverage-domainset" in rels
    assert body["report"]["raster"]["band_names"] == ["signal", "quality"]
    info = world.store.get_collection("signal")
    path = Path(cog_path(world.store, info))
    assert path.parent.parent == world.raster_folder
    assert re.fullmatch(r"[0-9a-f]{32}\.tif", path.name)  # the server's name, not the upload's
    valid, errors, _warnings = cog_validate(str(path))
    assert valid, errors
    with open_cog(world.store, info) as ds:
        overviews = ds.overviews(1)  # until the overview fits a 256-cell tile: 300 x 200
        assert overviews == [2] and ds.overviews(2) == overviews
        assert ds.files == [str(path)]
        assert np.array_equal(ds.read(), signal_values())
        assert ds.crs.to_epsg() == 32640 and ds.nodata == NODATA
    with rasterio.open(signal_tif) as src:
        assert tuple(ds.transform) == tuple(src.transform)


def test_metadata_bands_units_grid_and_statistics(world, signal_tif):
    info = world.store.get_collection("signal")
    raster = info.raster
    assert (raster.width, raster.height, raster.dtype, raster.nodata) == (
        600,
        400,
        "float32",
        NODATA,
    )
    assert raster.crs == "EPSG:32640" and raster.resolution == (30.0, 30.0)
    assert [(b.name, b.unit) for b in raster.bands] == [("signal", "dBm"), ("quality", "percent")]
    data = signal_values().astype("float64")
    for band, values in zip(raster.bands, data, strict=True):
        valid = values[values != NODATA]
        stats = band.statistics
        assert stats.minimum == pytest.approx(valid.min())
        assert stats.maximum == pytest.approx(valid.max())
        assert stats.mean == pytest.approx(valid.mean())
        assert stats.stddev == pytest.approx(valid.std(), rel=1e-6)
        assert stats.valid_percent == pytest.approx(100 * valid.size / values.size)
    with rasterio.open(signal_tif) as src:
        expected = transform_bounds(src.crs, "OGC:CRS84", *src.bounds, densify_pts=21)
    assert info.bbox == pytest.approx(expected)  # CRS84, around Sharjah
    assert 55.4 < info.bbox[0] < info.bbox[2] < 55.8


def test_listed_with_its_kind_and_private_to_its_owner(world):
    listed = world.client.get("/collections", headers=world.keys["viewer"]).json()
    kinds = {c["id"]: c["kind"] for c in listed["collections"]}
    assert kinds["signal"] == "coverage"
    assert world.client.get("/collections/signal").status_code == 404  # anonymous
    assert world.client.get("/collections/signal", headers=world.keys["other"]).status_code == 404
    anonymous = world.client.get("/collections").json()["collections"]
    assert "signal" not in {c["id"] for c in anonymous}
    own = world.client.get("/collections/signal", headers=world.keys["viewer"])
    assert own.status_code == 200 and own.json()["rangeType"]["field"][0]["uom"]["code"] == "dBm"


def test_feature_paths_of_a_raster_answer_404(world):
    for path in ("items", "items/1", "queryables", "tiles", "styles", "changes?since=1"):
        res = world.client.get(f"/collections/signal/{path}", headers=world.keys["viewer"])
        assert res.status_code == 404, (path, res.text)
        assert "raster" in res.json()["detail"], path


def test_replace_is_a_new_version_and_old_versions_stay_immutable(world, signal_tif, tmp_path):
    before = world.store.get_collection("signal")
    first = Path(cog_path(world.store, before))
    bytes_before = first.read_bytes()
    with open(signal_tif, "rb") as handle:
        res = world.client.put(
            "/collections/signal/data",
            headers=world.keys["editor"],
            files={"file": ("again.tif", handle.read())},
        )
    assert res.status_code == 200, res.text
    after = world.store.get_collection("signal")
    assert after.version == before.version + 1
    assert cog_path(world.store, after) != str(first)
    assert cog_path(world.store, after, before.version) == str(first)
    assert first.read_bytes() == bytes_before  # the old version's file is untouched
    versions = world.client.get("/collections/signal/versions", headers=world.keys["viewer"])
    records = versions.json()["versions"]
    assert [v["operation"] for v in records] == ["create", "replace"]
    assert all(v["bytes"] > 0 for v in records)
    appended = world.client.post(
        "/collections/signal/data",
        headers=world.keys["editor"],
        files={"file": ("more.tif", signal_tif.read_bytes())},
    )
    assert appended.status_code == 400 and "appended" in appended.json()["detail"]


def test_restore_links_the_old_file_and_retention_removes_only_pruned_files(world):
    info = world.store.get_collection("signal")
    res = world.client.post("/collections/signal/versions/1/restore", headers=world.keys["editor"])
    assert res.status_code in (200, 201), res.text
    restored = world.store.get_collection("signal")
    assert restored.version == info.version + 1
    old = Path(cog_path(world.store, restored, 1))
    assert cog_path(world.store, restored) != str(old)
    assert Path(cog_path(world.store, restored)).read_bytes() == old.read_bytes()
    policy = retention.RetentionPolicy(keep_versions=1, keep_days=0)
    later = datetime.now(UTC) + timedelta(seconds=5)  # the versions are seconds old
    pruned = retention.prune(world.store, policy, collection="signal", now=later)
    assert sorted(p.version for p in pruned) == [1, 2]
    assert not old.exists()
    with open_cog(world.store, restored) as ds:  # the current file survives its source
        assert np.array_equal(ds.read(), signal_values())
    gone = world.client.get("/collections/signal/versions", headers=world.keys["viewer"])
    assert [v["pruned"] is not None for v in gone.json()["versions"]] == [True, True, False]


def test_audit_records_raster_writes(world):
    events = world.client.get(
        "/audit?collection=signal&limit=50", headers=world.keys["admin"]
    ).json()["events"]
    operations = {e["operation"] for e in events}
    assert {"create", "replace", "metadata"} <= operations


def test_kinds_do_not_mix(world, signal_tif):
    geojson = (DATA / "districts.geojson").read_bytes()
    res = world.client.put(
        "/collections/signal/data",
        headers=world.keys["editor"],
        files={"file": ("d.geojson", geojson)},
    )
    assert res.status_code == 409 and "raster" in res.json()["detail"]
    created = world.client.post(
        "/collections",
        headers=world.keys["editor"],
        data={"id": "vector-first"},
        files={"file": ("d.geojson", geojson)},
    )
    assert created.status_code == 201, created.text
    res = world.client.put(
        "/collections/vector-first/data",
        headers=world.keys["editor"],
        files={"file": ("s.tif", signal_tif.read_bytes())},
    )
    assert res.status_code == 409 and "features" in res.json()["detail"]
    assert world.upload("signal", signal_tif).status_code == 409  # exists already


def test_cli_imports_a_geotiff(world, signal_tif):
    done = run_cli(
        world.settings,
        "import",
        str(signal_tif),
        "--collection",
        "cli-signal",
        "--title",
        "Signal (CLI)",
        "--visibility",
        "public",
    )
    assert done.returncode == 0, done.stderr
    assert "raster, stored as a COG" in done.stdout and "signal, quality" in done.stdout
    doc = world.client.get("/collections/cli-signal").json()
    assert doc["kind"] == "coverage" and doc["title"] == "Signal (CLI)"
    listing = run_cli(world.settings, "collections")
    assert "cli-signal" in listing.stdout


def test_a_dead_writers_unrecorded_cog_is_swept_once_old(world, signal_tif):
    """A COG placed but never recorded (its writer died) goes with the next old-enough
    pruning pass; recorded files, and young unrecorded ones (a publish under way), stay."""
    folder = world.raster_folder / "signal"
    orphan = folder / ("ab" * 16 + ".tif")
    orphan.write_bytes(signal_tif.read_bytes())
    staged = world.raster_folder / ".staging" / ("cd" * 16 + ".tif.part")
    staged.write_bytes(b"partial")
    recorded = set(world.stored_files()) - {orphan, staged}
    policy = retention.RetentionPolicy(keep_versions=100, keep_days=100)
    retention.prune(world.store, policy)
    assert orphan.exists() and staged.exists()  # young: perhaps a publish under way
    later = datetime.now(UTC) + timedelta(days=1)
    retention.prune(world.store, policy, now=later)
    assert not orphan.exists() and not staged.exists()
    assert set(world.stored_files()) == recorded


def test_the_html_page_of_a_raster_links_its_coverage(world):
    page = world.client.get("/collections/signal?f=html", headers=world.keys["viewer"])
    assert page.status_code == 200
    assert "/collections/signal/coverage?f=tif" in page.text and "/items" not in page.text
    assert "dBm" in page.text and "600 × 400" in page.text

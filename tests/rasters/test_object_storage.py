"""Raster COGs in S3-compatible object storage (GIS_RASTER_DIR=s3://bucket/prefix), both
stores: moto's S3 server on 127.0.0.1 (its own process) plays the object store, boto3
writes, GDAL reads the COGs in place (/vsis3/). Publishing, reading (coverage, map tiles,
point values), replace, restore, retention and refused uploads: objects are what the
catalog says, and nothing lands on the local disk beside the store."""

from __future__ import annotations

import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest
import rasterio
from fastapi.testclient import TestClient
from pyproj import Transformer

from gis_service.app import create_app
from gis_service.domain.access import Role
from gis_service.store import retention
from gis_service.store.factory import open_store

from ..conftest import STORES, free_port, issue_key, make_settings
from .tiffs import CELL, NODATA, ORIGIN, signal_values, write_signal_tif

BUCKET = "gis-rasters"
PREFIX = "cogs"
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test"}


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """moto's S3 server in a process of its own; its endpoint URL."""
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    endpoint = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(endpoint, timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield endpoint
    finally:
        server.terminate()
        server.wait(10)


@pytest.fixture(scope="module", params=STORES)
def world(request, s3, tmp_path_factory):
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {**CREDENTIALS, "AWS_DEFAULT_REGION": "us-east-1"}.items():
            patch.setenv(name, value)
        tmp = tmp_path_factory.mktemp("objects")
        prefix = f"{PREFIX}-{request.param}"
        settings = make_settings(
            request.param, request, tmp, raster_dir=f"s3://{BUCKET}/{prefix}", s3_endpoint_url=s3
        )
        store = open_store(settings)
        client = store.raster_files.client  # type: ignore[union-attr]
        if BUCKET not in [b["Name"] for b in client.list_buckets()["Buckets"]]:
            client.create_bucket(Bucket=BUCKET)
        editor = issue_key(store, "tdra", Role.EDITOR, "TDRA", "الهيئة")
        with TestClient(create_app(settings)) as http:
            yield http, store, editor, tmp, prefix
        store.close()


def objects(world) -> list[str]:
    _http, store, _editor, _tmp, prefix = world
    listed = store.raster_files.client.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/")
    return sorted(item["Key"][len(prefix) + 1 :] for item in listed.get("Contents", []))


def upload(world, cid: str, body: bytes, method: str = "post"):
    http, _store, editor, _tmp, _prefix = world
    if method == "put":
        return http.put(f"/collections/{cid}/data", headers=editor, files={"file": ("s.tif", body)})
    return http.post(
        "/collections",
        headers=editor,
        data={"id": cid, "visibility": "public"},
        files={"file": ("s.tif", body)},
    )


@pytest.fixture(scope="module")
def tif(world) -> bytes:
    return write_signal_tif(world[3] / "signal.tif").read_bytes()


def test_publish_puts_one_object_and_nothing_on_disk(world, tif):
    http, store, _editor, tmp, _prefix = world
    assert upload(world, "sig", tif).status_code == 201
    info = store.get_collection("sig")
    assert info.raster is not None
    assert objects(world) == [info.raster.file]
    assert not list((tmp / "rasters").rglob("*.tif")) and not list(tmp.rglob("*.tif.part"))
    assert http.get("/collections/sig").json()["id"] == "sig"


def test_coverage_tiles_and_values_are_read_from_the_object(world, tif):
    http = world[0]
    res = http.get("/collections/sig/coverage?subset=E(358000:361000),N(2805000:2807000)")
    assert res.status_code == 200, res.text
    with rasterio.open(BytesIO(res.content)) as ds:
        data = ds.read(1)
        col = round((ds.bounds.left - ORIGIN[0]) / CELL)
        row = round((ORIGIN[1] - ds.bounds.top) / CELL)
    want = signal_values()[0][row : row + data.shape[0], col : col + data.shape[1]]
    assert data.shape[1] == 100 and data.shape[0] >= 66 and np.array_equal(data, want)
    to_lonlat = Transformer.from_crs("EPSG:32640", "OGC:CRS84", always_xy=True)
    lon, lat = to_lonlat.transform(ORIGIN[0] + 400.5 * CELL, ORIGIN[1] - 200.5 * CELL)
    point = {"type": "Point", "coordinates": [lon, lat]}
    run = http.post(
        "/processes/raster-values/execution",
        json={"inputs": {"raster": {"collection": "sig"}, "points": point}},
    )
    assert run.status_code == 200, run.text
    value = run.json()["features"][0]["properties"]["signal"]
    assert value == pytest.approx(float(signal_values()[0][200, 400]), abs=1e-4)
    assert value != NODATA


def test_a_map_tile_inside_the_raster_is_drawn(world):
    import morecantile
    from PIL import Image

    lonlat = Transformer.from_crs("EPSG:32640", "OGC:CRS84", always_xy=True)
    lon, lat = lonlat.transform(ORIGIN[0] + 300 * CELL, ORIGIN[1] - 200 * CELL)
    t = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, 13)
    res = world[0].get(f"/collections/sig/map/tiles/WebMercatorQuad/13/{t.y}/{t.x}")
    assert res.status_code == 200, res.text
    image = np.asarray(Image.open(BytesIO(res.content)).convert("RGBA"))
    assert image.shape == (256, 256, 4) and (image[..., 3] > 0).mean() > 0.5


def test_replace_restore_and_retention_keep_objects_and_catalog_equal(world, tif):
    _http, store, _editor, _tmp, _prefix = world
    first = store.get_collection("sig")
    assert upload(world, "sig", tif, method="put").status_code == 200
    restored = world[0].post("/collections/sig/versions/1/restore", headers=world[2])
    assert restored.status_code == 200, restored.text
    current = store.get_collection("sig")
    assert current.version == first.version + 2
    assert len(objects(world)) == 3  # each version its own object, the restore a copy
    policy = retention.RetentionPolicy(keep_versions=1, keep_days=0)
    later = datetime.now(UTC) + timedelta(seconds=5)
    pruned = retention.prune(store, policy, collection="sig", now=later)
    assert sorted(p.version for p in pruned) == [1, 2]
    assert objects(world) == [current.raster.file]  # type: ignore[union-attr]
    res = world[0].get("/collections/sig/coverage?subset=E(358000:358300),N(2805000:2805300)")
    assert res.status_code == 200  # the current object outlives the one it was copied from


def test_a_refused_upload_leaves_no_object(world, tif):
    before = objects(world)
    vrt = b'<VRTDataset rasterXSize="10" rasterYSize="10"></VRTDataset>'
    assert upload(world, "bad", vrt).status_code == 400
    assert upload(world, "bad", tif[: len(tif) // 2]).status_code == 400
    assert objects(world) == before
    assert world[1].catalog.raster_info("bad") is None


def test_a_dead_writers_unrecorded_object_is_swept_once_old(world, tif):
    _http, store, _editor, _tmp, prefix = world
    orphan = f"sig/{'ab' * 16}.tif"
    store.raster_files.client.put_object(  # type: ignore[union-attr]
        Bucket=BUCKET, Key=f"{prefix}/{orphan}", Body=b"left by a writer that died"
    )
    policy = retention.RetentionPolicy(keep_versions=100, keep_days=100)
    retention.prune(store, policy)
    assert orphan in objects(world)  # young: maybe a publish under way
    retention.prune(store, policy, now=datetime.now(UTC) + timedelta(hours=7))
    assert orphan not in objects(world)
    assert store.get_collection("sig").raster.file in objects(world)  # type: ignore[union-attr]

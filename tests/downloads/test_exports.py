"""Downloads (`f=geojson|csv|gpkg|shp|fgb|parquet|kml` on items), on both stores.

Every format is read back with GDAL (GeoParquet with geopandas, which checks its `geo`
metadata) and compared with the source files.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import geopandas
import pandas as pd
import pyarrow.parquet as pq
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import shape

from gis_service.api.features.items import ITEMS_PARAMS
from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import DATA, ROOT, LiveServer

FORMATS = ["geojson", "csv", "gpkg", "shp", "fgb", "parquet", "kml"]
MEDIA = {
    "geojson": "application/geo+json",
    "csv": "text/csv; charset=utf-8",
    "gpkg": "application/geopackage+sqlite3",
    "shp": "application/zip",
    "fgb": "application/flatgeobuf",
    "parquet": "application/vnd.apache.parquet",
    "kml": "application/vnd.google-earth.kml+xml",
}
EXTENSION = {**{f: f for f in FORMATS}, "shp": "shp.zip"}
TYPED = {"gpkg", "shp", "fgb", "parquet"}  # formats that keep integer and date types


def source(name: str) -> dict[int, dict[str, Any]]:
    path = (
        DATA / f"{name}.geojson" if name != "catalogue" else ROOT / "tests/data/catalogue.geojson"
    )
    features = json.loads(path.read_text(encoding="utf-8"))["features"]
    return {f["id"]: f for f in features}


FACILITIES = source("facilities")
CATALOGUE = source("catalogue")


def read_back(content: bytes, fmt: str, tmp_path: Path) -> pd.DataFrame:
    """The downloaded bytes as GDAL (or geopandas, for GeoParquet) reads them, by feature id."""
    path = tmp_path / f"download.{EXTENSION[fmt]}"
    path.write_bytes(content)
    if fmt == "parquet":
        frame = geopandas.read_parquet(path)
        ids = frame["id"].tolist()
    else:
        frame = pyogrio.read_dataframe(path, fid_as_index=True)
        if fmt in ("geojson", "gpkg"):
            ids = frame.index.tolist()
        elif fmt == "kml":
            ids = [int(i.rsplit(".", 1)[1]) for i in frame["id"]]
        else:
            ids = [int(i) for i in frame["id"]]
    frame.index = pd.Index(ids, name="fid")
    return frame.sort_index()


def get(client: TestClient, path: str, **params: Any):
    return client.get(path, params=params)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_holds_the_whole_collection(client, fmt, tmp_path):
    res = get(client, "/collections/facilities/items", f=fmt)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == MEDIA[fmt]
    ext = EXTENSION[fmt]
    assert res.headers["content-disposition"] == (
        f"attachment; filename=\"facilities.{ext}\"; filename*=UTF-8''facilities.{ext}"
    )
    frame = read_back(res.content, fmt, tmp_path)
    assert frame.index.tolist() == sorted(FACILITIES)  # every feature, ids kept
    expected = [FACILITIES[i]["properties"] for i in frame.index]
    assert frame["name_ar"].tolist() == [p["name_ar"] for p in expected]  # Arabic exact
    assert frame["name_en"].tolist() == [p["name_en"] for p in expected]
    capacities = [p["capacity"] for p in expected]
    if fmt in TYPED or fmt in ("kml", "geojson"):
        assert pd.api.types.is_integer_dtype(frame["capacity"]), frame["capacity"].dtype
        assert frame["capacity"].tolist() == capacities
    else:
        assert frame["capacity"].tolist() == [str(c) for c in capacities]
    opened = [str(v)[:10] for v in frame["opened"]]
    assert opened == [p["opened"] for p in expected]
    if fmt in ("gpkg", "shp", "fgb", "geojson"):
        assert pd.api.types.is_datetime64_any_dtype(frame["opened"])
    elif fmt == "parquet":
        assert isinstance(frame["opened"].iloc[0], date)
    geometries = [shape(FACILITIES[i]["geometry"]) for i in frame.index]
    assert shapely.equals_exact(frame.geometry.values, geometries, tolerance=0).all()


def test_geoparquet_metadata_is_valid(client, tmp_path):
    res = get(client, "/collections/facilities/items", f="parquet", limit=3)
    path = tmp_path / "x.parquet"
    path.write_bytes(res.content)
    geo = json.loads(pq.read_schema(path).metadata[b"geo"])
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry"
    column = geo["columns"]["geometry"]
    assert column["encoding"] == "WKB"
    assert column["crs"]["id"] == {"authority": "OGC", "code": "CRS84"}


def test_geojson_download_equals_the_pages(client):
    """Same features, same bytes: a download is the pages without the paging."""
    whole = get(client, "/collections/facilities/items", f="geojson").json()
    pages: list[dict] = []
    url = "/collections/facilities/items?limit=2000"
    while url:
        page = client.get(url).json()
        pages += page["features"]
        url = next((lk["href"] for lk in page["links"] if lk["rel"] == "next"), None)
    assert whole["features"] == pages
    assert whole["numberReturned"] == len(pages) == len(FACILITIES)


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg", "parquet", "kml"])
def test_filtered_selection(client, fmt, tmp_path):
    params = {"bbox": "55.3,25.2,55.5,25.4", "category": "hospital"}
    page = get(client, "/collections/facilities/items", limit=10000, **params).json()
    expected = sorted(f["id"] for f in page["features"])
    assert 0 < len(expected) < len(FACILITIES)
    res = get(client, "/collections/facilities/items", f=fmt, **params)
    frame = read_back(res.content, fmt, tmp_path)
    assert frame.index.tolist() == expected
    assert set(frame["category"]) == {"hospital"}


def test_cql2_filter_selects_the_download(client, tmp_path):
    if "filter" not in ITEMS_PARAMS:
        pytest.skip("the CQL2 filter parameter is not wired into items yet")
    params = {"filter": "capacity > 400 AND category = 'school'"}
    page = get(client, "/collections/facilities/items", limit=10000, **params)
    assert page.status_code == 200, page.text
    expected = sorted(f["id"] for f in page.json()["features"])
    frame = read_back(
        get(client, "/collections/facilities/items", f="csv", **params).content, "csv", tmp_path
    )
    assert frame.index.tolist() == expected and expected


@pytest.mark.parametrize("fmt", ["geojson", "shp"])
def test_explicit_limit_caps_the_download(client, fmt, tmp_path):
    res = get(client, "/collections/facilities/items", f=fmt, limit=7)
    assert read_back(res.content, fmt, tmp_path).index.tolist() == sorted(FACILITIES)[:7]


def test_limit_above_the_page_maximum_is_not_clamped(empty_settings, tmp_path):
    settings = empty_settings.model_copy(update={"max_limit": 10})
    store = open_store(settings)
    import_file(store, DATA / "districts.geojson", IngestOptions(collection_id="districts"))
    store.close()
    with TestClient(create_app(settings)) as client:
        page = get(client, "/collections/districts/items", limit=50).json()
        assert page["numberReturned"] == 10
        res = get(client, "/collections/districts/items", f="csv", limit=50)
        assert len(read_back(res.content, "csv", tmp_path)) == 50
        res = get(client, "/collections/districts/items", f="csv")
        assert len(read_back(res.content, "csv", tmp_path)) == 100


@pytest.mark.parametrize("fmt", FORMATS)
def test_empty_selection_is_an_empty_file(client, fmt, tmp_path):
    res = get(client, "/collections/facilities/items", f=fmt, bbox="10,10,11,11")
    assert res.status_code == 200, res.text
    frame = read_back(res.content, fmt, tmp_path)
    assert len(frame) == 0
    if fmt in ("csv", "gpkg", "shp", "fgb", "parquet"):
        assert {"name_ar", "capacity", "opened"} <= set(frame.columns)


@pytest.mark.parametrize("fmt", ["geojson", "csv", "gpkg", "fgb", "parquet", "kml"])
def test_mixed_geometry_layer_exports(client, fmt, tmp_path):
    res = get(client, "/collections/catalogue/items", f=fmt)
    assert res.status_code == 200, res.text
    frame = read_back(res.content, fmt, tmp_path)
    assert frame.index.tolist() == sorted(CATALOGUE)
    assert frame["kind"].tolist() == [CATALOGUE[i]["properties"]["kind"] for i in frame.index]
    for fid in frame.index:
        given = CATALOGUE[fid]["geometry"]
        got = frame.geometry[fid]
        if given is None:
            assert got is None or (isinstance(got, float) and pd.isna(got)), fid
            continue
        expected = shape(given)
        if fmt == "fgb":  # GDAL cannot declare a mixed FlatGeobuf with heights: 2D
            expected = shapely.force_2d(expected)
        assert shapely.equals_exact(got, expected, tolerance=0), (fmt, fid, got.wkt)
    when = frame["when"].tolist()
    for fid, value in zip(frame.index, when, strict=True):
        original = CATALOGUE[fid]["properties"]["when"]
        if original is None:
            assert pd.isna(value) or value == "", (fmt, fid, value)  # NULL stays NULL
        elif fmt in ("gpkg", "fgb", "parquet", "geojson"):
            assert value == pd.Timestamp(original), (fmt, fid)
        else:
            assert value == original


def test_mixed_layer_shapefile_is_refused_or_one_kind(client, tmp_path):
    res = get(client, "/collections/catalogue/items", f="shp")
    assert res.status_code == 400
    assert res.headers["content-type"] == "application/problem+json"
    assert res.json()["parameter"] == "f"
    assert "GeometryCollection" in res.json()["detail"]
    res = get(client, "/collections/catalogue/items", f="shp", kind="Polygon")
    assert res.status_code == 200, res.text
    frame = read_back(res.content, "shp", tmp_path)
    assert frame.index.tolist() == [6]
    res = get(client, "/collections/catalogue/items", f="shp", bbox="50,20,61,31")
    assert res.status_code == 400  # points, lines and polygons meet in that box


def test_shapefile_field_names_fit_and_stay_unique(empty_settings, tmp_path):
    names = ["اسم_المنشأة_الكامل", "اسم_المنشأة_المختصر", "description_en", "description_ar"]
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [55.4 + i / 100, 25.3]},
            "properties": {n: f"{n} {i} قيمة" for n in names},
        }
        for i in range(3)
    ]
    path = tmp_path / "long.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}), "utf-8")
    store = open_store(empty_settings)
    import_file(store, path, IngestOptions(collection_id="long"))
    store.close()
    with TestClient(create_app(empty_settings)) as client:
        res = get(client, "/collections/long/items", f="shp")
    assert res.status_code == 200, res.text
    frame = read_back(res.content, "shp", tmp_path)
    columns = [c for c in frame.columns if c not in ("id", "geometry")]
    assert len(columns) == 4 and len({c.lower() for c in columns}) == 4
    assert all(len(c.encode()) <= 10 for c in columns)
    for name, column in zip(names, columns, strict=True):
        assert name.startswith(column.split("_")[0])
        assert frame[column].tolist() == [f"{name} {i} قيمة" for i in range(3)]  # UTF-8 .cpg


def test_properties_and_skip_geometry_shape_downloads(client, tmp_path):
    res = get(
        client,
        "/collections/facilities/items",
        f="csv",
        limit=2,
        properties="name_ar,capacity",
        skipGeometry="true",
    )
    text = res.content.decode("utf-8-sig")
    assert text.splitlines() == [
        "id,name_ar,capacity",
        f"1,{FACILITIES[1]['properties']['name_ar']},{FACILITIES[1]['properties']['capacity']}",
        f"2,{FACILITIES[2]['properties']['name_ar']},{FACILITIES[2]['properties']['capacity']}",
    ]
    res = get(client, "/collections/facilities/items", f="gpkg", properties="capacity", limit=3)
    frame = read_back(res.content, "gpkg", tmp_path)
    assert list(frame.columns) == ["capacity", "geometry"]
    res = get(client, "/collections/facilities/items", f="geojson", skipGeometry="true", limit=1)
    assert res.json()["features"][0]["geometry"] is None


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("f=xlsx", "f"),
        ("f=csv&bbox=1,2,3", "bbox"),
        ("f=gpkg&limit=0", "limit"),
        ("f=csv&properties=nope", "properties"),
        ("f=fgb&skipGeometry=true", "skipGeometry"),
        ("f=shp&capacity=lots", "capacity"),
    ],
)
def test_bad_download_parameters_are_400(client, query, parameter):
    res = client.get(f"/collections/facilities/items?{query}")
    assert res.status_code == 400, res.text
    assert res.json()["parameter"] == parameter


def test_download_formats_are_linked_and_declared(client):
    doc = client.get("/collections/facilities").json()
    enclosures = {lk["type"]: lk["href"] for lk in doc["links"] if lk["rel"] == "enclosure"}
    assert set(enclosures) == set(MEDIA.values())
    assert enclosures["application/geopackage+sqlite3"].endswith(
        "/collections/facilities/items?f=gpkg"
    )
    page = client.get("/collections/facilities/items?category=school&limit=5&offset=5").json()
    csv_link = next(lk["href"] for lk in page["links"] if lk["type"].startswith("text/csv"))
    assert csv_link.endswith("/collections/facilities/items?category=school&f=csv")
    api = client.get("/api").json()
    operation = api["paths"]["/collections/facilities/items"]["get"]
    assert set(MEDIA.values()) <= set(operation["responses"]["200"]["content"])
    f_param = api["components"]["parameters"]["f-items"]
    assert set(FORMATS) <= set(f_param["schema"]["enum"])


def test_head_answers_headers_only(client):
    res = client.head("/collections/facilities/items?f=gpkg")
    assert res.status_code == 200 and res.content == b""
    assert res.headers["content-disposition"].startswith('attachment; filename="facilities.gpkg"')


def test_hidden_collection_download_is_404(empty_settings):
    store = open_store(empty_settings)
    import_file(store, DATA / "districts.geojson", IngestOptions(collection_id="secret"))
    store.catalog.set_access("secret", AccessPolicy(owner="sha", visibility=Visibility.PRIVATE))
    store.close()
    with TestClient(create_app(empty_settings)) as client:
        for fmt in FORMATS:
            res = client.get(f"/collections/secret/items?f={fmt}")
            assert res.status_code == 404, (fmt, res.status_code)
            assert res.headers["content-type"] == "application/problem+json"


def test_downloads_are_audited_with_their_feature_count(empty_settings):
    store = open_store(empty_settings)
    import_file(store, DATA / "districts.geojson", IngestOptions(collection_id="d"))
    store.close()
    with TestClient(create_app(empty_settings)) as client:
        for fmt in ("csv", "gpkg"):
            res = client.get(
                f"/collections/d/items?f={fmt}&limit=42", headers={"X-Request-Id": fmt}
            )
            assert res.status_code == 200
        client.app.state.audit.flush()
        store = client.app.state.store
        events = {
            e.request_id: e for e in store.catalog.audit(["d"], since=None, until=None, limit=10)
        }
    assert (events["csv"].operation, events["csv"].features) == ("download", 42)
    assert (events["gpkg"].operation, events["gpkg"].features) == ("download", 42)


def _abandon(server: LiveServer, path: str, read: int) -> None:
    """Start a download, read a little of it, and hang up."""
    parts = urlsplit(server.url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    conn.request("GET", path)
    res = conn.getresponse()
    assert res.status == 200
    res.read(read)
    conn.sock.close()
    conn.close()


@pytest.mark.slow
def test_abandoned_downloads_release_connections_and_files(demo_settings, tmp_path):
    """Clients that hang up mid-download (more of them than the PostGIS pool holds) leave no
    connection held and no temporary file behind."""
    server = LiveServer(demo_settings)
    server.env["TMPDIR"] = str(tmp_path)
    with server:
        for i in range(6):
            fmt = ["geojson", "gpkg", "csv"][i % 3]
            _abandon(server, f"/collections/facilities/items?f={fmt}", 4096)
        deadline = time.monotonic() + 20
        while any(tmp_path.glob("gis-download-*")) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not any(tmp_path.glob("gis-download-*"))
        parts = urlsplit(server.url)
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=15)
        conn.request("GET", "/collections/facilities/items?f=csv&limit=3")
        res = conn.getresponse()
        assert res.status == 200 and len(res.read().splitlines()) == 4
        conn.close()


def test_downloads_at_once_are_bounded_and_always_given_back(client):
    state = client.app.state
    saved = getattr(state, "download_slots", None)
    state.download_slots = slots = threading.BoundedSemaphore(1)
    try:
        slots.acquire()
        res = client.get("/collections/facilities/items?f=csv&limit=1")
        assert res.status_code == 503, res.text
        assert res.headers["content-type"] == "application/problem+json"
        slots.release()
        for path in (
            "/collections/facilities/items?f=csv&limit=1",  # streamed
            "/collections/facilities/items?f=gpkg&limit=1",  # built as a file
            "/collections/catalogue/items?f=shp",  # refused (400) after the slot was taken
            "/collections/facilities/items?f=fgb&skipGeometry=true",  # refused at once
        ):
            client.get(path)
            assert slots.acquire(blocking=False), path  # the one place is free again
            slots.release()
    finally:
        state.download_slots = saved

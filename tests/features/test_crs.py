"""OGC API Features Part 2 (CRS by reference) on both stores.

Expected coordinates are computed here from the source files with pyproj, independently of
the service: `always_xy=True` transformations, with the authority axis order written out
by hand (EPSG:4326 latitude first; the projected CRSs easting first).
"""

from __future__ import annotations

import re
import threading
from urllib.parse import quote

import numpy as np
import orjson
import pytest
import shapely
from pyproj import Transformer

from gis_service.domain.crs import ADVERTISED_CRS, CRS84, resolve_crs
from gis_service.errors import InvalidParameter

from ..conftest import DATA, issue_key

EPSG = "http://www.opengis.net/def/crs/EPSG/0/"
CRS_CLASS = "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs"
LAT_FIRST = {"4326"}  # of the CRSs tested here, the geographic one: latitude first


def _source(name: str) -> dict[int, dict]:
    doc = orjson.loads((DATA / f"{name}.geojson").read_bytes())
    return {f["id"]: f["geometry"] for f in doc["features"]}


@pytest.fixture(scope="module")
def facilities() -> dict[int, dict]:
    return _source("facilities")


@pytest.fixture(scope="module")
def districts() -> dict[int, dict]:
    return _source("districts")


def expected_xy(code: str, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """Coordinates in the CRS's authority axis order, computed independently."""
    if code == "CRS84":
        return np.column_stack([lon, lat])
    x, y = Transformer.from_crs("EPSG:4326", f"EPSG:{code}", always_xy=True).transform(lon, lat)
    return np.column_stack([y, x] if code in LAT_FIRST else [x, y])


def uri(code: str) -> str:
    return CRS84 if code == "CRS84" else EPSG + code


def get_items(client, collection: str, **params) -> dict:
    res = client.get(f"/collections/{collection}/items", params={"limit": 10000, **params})
    assert res.status_code == 200, res.text
    return res.json()


def ids(doc: dict) -> set[int]:
    return {f["id"] for f in doc["features"]}


# --- the domain module ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("http://www.opengis.net/def/crs/EPSG/0/3857", EPSG + "3857"),
        ("https://www.opengis.net/def/crs/EPSG/0/3857", EPSG + "3857"),
        ("EPSG:32640", EPSG + "32640"),
        ("[EPSG:3997]", EPSG + "3997"),
        ("epsg:4326", EPSG + "4326"),
        ("urn:ogc:def:crs:EPSG::4258", EPSG + "4258"),
        (CRS84, CRS84),
        ("[OGC:CRS84]", CRS84),
    ],
)
def test_identifiers_resolve_to_canonical_uris(text, canonical):
    crs = resolve_crs("crs", text)
    assert crs.uri == canonical
    assert crs.is_crs84 == (canonical == CRS84)


def test_resolved_crs_is_cached_per_code():
    assert resolve_crs("crs", "EPSG:3857") is resolve_crs("crs", EPSG + "3857")
    other = resolve_crs("filter-crs", "EPSG:3857")  # same transformers, its own parameter
    assert other == resolve_crs("crs", "EPSG:3857") and other.parameter == "filter-crs"
    assert other._forward is resolve_crs("crs", "EPSG:3857")._forward


def test_untransformable_input_is_a_400_for_the_parameter_that_named_the_crs():
    crs = resolve_crs("filter-crs", "EPSG:32640")
    with pytest.raises(InvalidParameter) as caught:
        crs.to_crs84(np.array([shapely.Point(0, 0), shapely.Point(1e300, 0)]))
    assert caught.value.parameter == "filter-crs" and "geometry 1" in caught.value.detail


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("EPSG:999999", "not an EPSG code PROJ knows"),
        ("hello", "not a CRS identifier"),
        ("[EPSG:4326", "not a CRS identifier"),
        ("http://www.opengis.net/def/crs/OGC/1.3/CRS27", "not a CRS this service knows"),
        ("EPSG:32600", "cannot be transformed from WGS 84"),  # the UTM grid *system*
        ("EPSG:22300", "cannot be transformed from WGS 84"),  # Tunisia Mining Grid
        ("EPSG:5703", "Vertical CRS"),
        ("EPSG:4979", "Geographic 3D CRS"),
        ("EPSG:4978", "Geocentric CRS"),
        ("EPSG:7405", "Compound CRS"),
    ],
)
def test_unusable_identifiers_are_refused_naming_parameter_and_value(text, says):
    with pytest.raises(InvalidParameter) as caught:
        resolve_crs("filter-crs", text)
    assert caught.value.parameter == "filter-crs"
    assert text in caught.value.detail and says in caught.value.detail


def test_round_trip_and_authority_axis_order():
    points = shapely.points([[55.41, 25.33], [56.1, 24.2]])
    wgs84 = resolve_crs("crs", "EPSG:4326")
    np.testing.assert_array_equal(
        shapely.get_coordinates(wgs84.from_crs84(points)), [[25.33, 55.41], [24.2, 56.1]]
    )
    for code in ("3857", "32640", "3997", "4258"):
        crs = resolve_crs("crs", f"EPSG:{code}")
        back = crs.to_crs84(crs.from_crs84(points))
        np.testing.assert_allclose(shapely.get_coordinates(back), [[55.41, 25.33], [56.1, 24.2]])


def test_transformers_are_shared_safely_between_threads():
    crs = resolve_crs("crs", "EPSG:32640")
    rng = np.random.default_rng(7)
    batches = [shapely.points(rng.uniform([54, 24], [57, 26.5], (2000, 2))) for _ in range(8)]
    alone = [shapely.get_coordinates(crs.from_crs84(b)) for b in batches]
    together: list[np.ndarray | None] = [None] * len(batches)

    def work(i: int) -> None:
        for _ in range(5):
            together[i] = shapely.get_coordinates(crs.from_crs84(batches[i]))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for a, b in zip(alone, together, strict=True):
        np.testing.assert_array_equal(a, b)


def test_geographic_bbox_across_the_antimeridian():
    box = resolve_crs("bbox-crs", "EPSG:4326").bbox_to_crs84(-10, 170, 10, -170)
    assert (box.minx, box.miny, box.maxx, box.maxy) == (170, -10, -170, 10)


def test_projected_bbox_encloses_its_curved_outline():
    crs = resolve_crs("bbox-crs", "EPSG:32640")
    box = crs.bbox_to_crs84(300000, 2790000, 400000, 2850000)
    xs, ys = np.meshgrid(np.linspace(300000, 400000, 41), np.linspace(2790000, 2850000, 41))
    lon, lat = Transformer.from_crs("EPSG:32640", "EPSG:4326", always_xy=True).transform(xs, ys)
    assert box.minx <= lon.min() and lon.max() <= box.maxx
    assert box.miny <= lat.min() and lat.max() <= box.maxy
    assert lon.min() - box.minx < 1e-6 and box.maxy - lat.max() < 1e-6  # and hugs it


# --- over HTTP, on both stores ---------------------------------------------------------


@pytest.mark.parametrize("code", ["CRS84", "4326", "3857", "32640", "3997"])
def test_points_in_each_crs_match_pyproj(client, facilities, code):
    params = {} if code == "CRS84" else {"crs": uri(code)}
    doc = get_items(client, "facilities", limit=500, **params)
    assert len(doc["features"]) == 500
    got = np.array([f["geometry"]["coordinates"] for f in doc["features"]])
    source = np.array([facilities[f["id"]]["coordinates"] for f in doc["features"]])
    want = expected_xy(code, source[:, 0], source[:, 1])
    tolerance = 1e-9 if code in ("CRS84", "4326") else 1e-6  # degrees, metres
    np.testing.assert_allclose(got, want, rtol=0, atol=tolerance)
    if code == "4326":
        assert got[:, 0].min() > 24 and got[:, 1].max() < 57  # latitude first, really


@pytest.mark.parametrize("code", ["32640", "3997", "4326"])
def test_polygons_in_each_crs_match_pyproj(client, districts, code):
    doc = get_items(client, "districts", crs=f"EPSG:{code}")
    assert len(doc["features"]) == len(districts)
    for feature in doc["features"]:
        ring = np.array(feature["geometry"]["coordinates"][0])
        src = np.array(districts[feature["id"]]["coordinates"][0])
        want = expected_xy(code, src[:, 0], src[:, 1])
        np.testing.assert_allclose(ring, want, rtol=0, atol=1e-6 if code != "4326" else 1e-9)


@pytest.mark.parametrize("code", ["CRS84", "4326", "3857", "32640", "3997"])
def test_content_crs_header_on_items_and_item(client, code):
    params = {} if code == "CRS84" else {"crs": f"EPSG:{code}"}
    items = client.get("/collections/facilities/items", params={"limit": 1, **params})
    item = client.get("/collections/districts/items/3", params=params)
    for res in (items, item):
        assert res.status_code == 200
        assert res.headers["content-crs"] == f"<{uri(code)}>"  # canonical, whatever was sent


def test_item_in_a_crs_and_its_etag(client, districts):
    url = "/collections/districts/items/3"
    plain, utm = client.get(url), client.get(url, params={"crs": EPSG + "32640"})
    ring = np.array(utm.json()["geometry"]["coordinates"][0])
    src = np.array(districts[3]["coordinates"][0])
    np.testing.assert_allclose(ring, expected_xy("32640", src[:, 0], src[:, 1]), atol=1e-6)
    assert plain.headers["etag"] != utm.headers["etag"]  # different bytes, different tag
    again = client.get(
        url, params={"crs": "EPSG:32640"}, headers={"If-None-Match": utm.headers["etag"]}
    )
    assert again.status_code == 304
    other = client.get(
        url, params={"crs": "EPSG:32640"}, headers={"If-None-Match": plain.headers["etag"]}
    )
    assert other.status_code == 200
    self_link = next(x for x in utm.json()["links"] if x["rel"] == "self")
    assert "crs=" in self_link["href"]


def test_next_links_keep_crs_and_bbox_crs(client):
    doc = client.get(
        "/collections/facilities/items",
        params={"limit": 5, "crs": "EPSG:3857", "bbox-crs": "EPSG:4326", "bbox": "25,55,26,56"},
    ).json()
    nxt = next(x for x in doc["links"] if x["rel"] == "next")["href"]
    assert "crs=EPSG%3A3857" in nxt and "bbox-crs=EPSG%3A4326" in nxt


CRS84_BOX = (55.38, 25.30, 55.42, 25.34)


def test_bbox_crs_4326_is_the_swapped_crs84_box(client):
    minx, miny, maxx, maxy = CRS84_BOX
    want = ids(get_items(client, "facilities", bbox=",".join(map(str, CRS84_BOX))))
    got = ids(
        get_items(
            client, "facilities", bbox=f"{miny},{minx},{maxy},{maxx}", **{"bbox-crs": EPSG + "4326"}
        )
    )
    assert 0 < len(want) < 5000
    assert got == want


def test_bbox_crs_3857_selects_the_equivalent_crs84_box(client):
    to_merc = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    x0, y0 = to_merc.transform(CRS84_BOX[0], CRS84_BOX[1])
    x1, y1 = to_merc.transform(CRS84_BOX[2], CRS84_BOX[3])
    want = ids(get_items(client, "facilities", bbox=",".join(map(str, CRS84_BOX))))
    got = ids(
        get_items(client, "facilities", bbox=f"{x0},{y0},{x1},{y1}", **{"bbox-crs": "EPSG:3857"})
    )
    assert 0 < len(want) < 5000
    assert got == want


def test_bbox_crs_utm_selects_the_enclosing_crs84_box(client, facilities):
    box = (338000.0, 2797000.0, 343000.0, 2802000.0)  # 5 km square in UTM 40N
    west, south, east, north = Transformer.from_crs(
        "EPSG:32640", "EPSG:4326", always_xy=True
    ).transform_bounds(*box, densify_pts=21)
    want = ids(get_items(client, "facilities", bbox=f"{west},{south},{east},{north}"))
    got = ids(
        get_items(client, "facilities", bbox=",".join(map(str, box)), **{"bbox-crs": "EPSG:32640"})
    )
    assert got == want
    # Nothing inside the UTM box is missed.
    fids = np.array(sorted(facilities))
    lonlat = np.array([facilities[i]["coordinates"] for i in fids])
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:32640", always_xy=True).transform(
        lonlat[:, 0], lonlat[:, 1]
    )
    inside = set(fids[(box[0] <= x) & (x <= box[2]) & (box[1] <= y) & (y <= box[3])].tolist())
    assert inside and inside <= got and len(got) < 5000


@pytest.mark.parametrize("parameter", ["crs", "bbox-crs"])
@pytest.mark.parametrize(
    "value",
    [
        "EPSG:999999",
        "not-a-crs",
        "http://www.opengis.net/def/crs/EPSG/0/32600",  # no transformation from WGS 84
        "EPSG:5703",  # vertical
        "http://www.opengis.net/def/crs/OGC/0/CRS84h",
    ],
)
def test_bad_crs_values_are_400_naming_the_parameter(client, parameter, value):
    params = {parameter: value, "bbox": "55,25,56,26"}
    for path in ("/collections/facilities/items", "/collections/facilities/items/1"):
        if parameter == "bbox-crs" and path.endswith("/1"):
            continue  # bbox-crs is an items parameter only
        query = params if path.endswith("items") else {parameter: value}
        res = client.get(path, params=query)
        assert res.status_code == 400, (path, res.text)
        assert res.headers["content-type"] == "application/problem+json"
        body = res.json()
        assert body["parameter"] == parameter and value in body["detail"]


def test_bbox_crs_on_a_single_item_is_unknown(client):
    res = client.get("/collections/facilities/items/1", params={"bbox-crs": "EPSG:4326"})
    assert res.status_code == 400 and res.json()["parameter"] == "bbox-crs"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"bbox": "6160000,2900000,6170000,2920000"}, "bbox"),  # metres without bbox-crs
        ({"bbox": "6170000,2900000,6160000,2920000", "bbox-crs": "EPSG:3857"}, "bbox"),
        ({"bbox": "1,2,3", "bbox-crs": "EPSG:3857"}, "bbox"),
        ({"bbox": "100,55,110,56", "bbox-crs": "EPSG:4326"}, "bbox"),  # latitude 100
        ({"bbox": "a,b,c,d", "bbox-crs": "EPSG:3857"}, "bbox"),
    ],
)
def test_bad_boxes_in_a_crs_are_400(client, params, parameter):
    res = client.get("/collections/facilities/items", params=params)
    assert res.status_code == 400
    assert res.json()["parameter"] == parameter


def test_geometries_a_crs_cannot_express_are_400_naming_the_feature(client):
    # UTM 40N has no coordinates for countries on the far side of the world.
    res = client.get("/collections/countries/items", params={"crs": "EPSG:32640", "limit": 500})
    assert res.status_code == 400
    body = res.json()
    assert body["parameter"] == "crs" and re.search(r"feature \d+", body["detail"])


def test_html_pages_draw_crs84_whatever_crs_says(client, districts):
    for path in ("/collections/districts/items/3", "/collections/districts/items"):
        res = client.get(path, params={"crs": "EPSG:3857", "f": "html"})
        assert res.status_code == 200 and "content-crs" not in res.headers
        found = re.search(
            r'<script id="features" type="application/geo\+json">(.*?)</script>', res.text, re.S
        )
        doc = orjson.loads(found.group(1).replace("<\\/", "</"))
        feature = doc if doc["type"] == "Feature" else doc["features"][0]
        ring = feature["geometry"]["coordinates"][0]
        assert ring == districts[feature["id"]]["coordinates"][0]  # CRS84, as stored
    bad = client.get("/collections/districts/items", params={"crs": "EPSG:0", "f": "html"})
    assert bad.status_code == 400  # checked all the same


GIS_FILES = ["gpkg", "shp", "fgb", "parquet", "csv"]
EXTENSIONS = {"shp": "shp.zip"}


@pytest.mark.parametrize("code", ["4326", "32640"])
@pytest.mark.parametrize("fmt", GIS_FILES)
def test_downloads_in_another_crs_hold_easting_first_files(client, facilities, fmt, code, tmp_path):
    """Files carry the CRS and x = easting/longitude, as GDAL writes them for any CRS."""
    import geopandas
    import pyogrio

    res = client.get(
        "/collections/facilities/items",
        params={"f": fmt, "crs": uri(code), "category": "school", "limit": 300},
    )
    assert res.status_code == 200, res.text
    path = tmp_path / f"x.{EXTENSIONS.get(fmt, fmt)}"
    path.write_bytes(res.content)
    if fmt == "parquet":
        frame = geopandas.read_parquet(path)
    else:
        frame = pyogrio.read_dataframe(path, fid_as_index=fmt == "gpkg")
        if fmt != "gpkg":
            frame.index = frame["id"].astype(int)
    if fmt == "parquet":
        frame.index = frame["id"]
    if fmt != "csv":
        assert frame.crs is not None and frame.crs.to_epsg() == int(code)
    else:
        frame = frame.set_geometry(geopandas.GeoSeries.from_wkt(frame["WKT"]))
    got = shapely.get_coordinates(frame.geometry.values)
    lonlat = np.array([facilities[int(i)]["coordinates"] for i in frame.index])
    x, y = Transformer.from_crs("EPSG:4326", f"EPSG:{code}", always_xy=True).transform(
        lonlat[:, 0], lonlat[:, 1]
    )
    assert len(frame) == 300
    np.testing.assert_allclose(got, np.column_stack([x, y]), rtol=0, atol=1e-6)


def test_geojson_download_in_a_crs_equals_its_pages(client):
    params = {"crs": uri("4326"), "district": "Al Qasimia"}
    res = client.get("/collections/facilities/items", params={**params, "f": "geojson"})
    assert res.status_code == 200
    assert res.headers["content-crs"] == f"<{uri('4326')}>"
    pages = get_items(client, "facilities", **params)
    assert [f["geometry"] for f in res.json()["features"]] == [
        f["geometry"] for f in pages["features"]
    ]  # latitude first, as the standard says for GeoJSON in EPSG:4326


def test_kml_stays_in_crs84(client):
    res = client.get("/collections/districts/items", params={"crs": "EPSG:3857", "f": "kml"})
    assert res.status_code == 400 and res.json()["parameter"] == "crs"


# --- metadata --------------------------------------------------------------------------

REQUIRED = {CRS84, EPSG + "4326", EPSG + "3857", EPSG + "32640", EPSG + "3997"}


def test_collections_carry_one_global_crs_list(client):
    doc = client.get("/collections").json()
    assert doc["crs"][0] == CRS84 and set(doc["crs"]) >= REQUIRED
    assert len(set(doc["crs"])) == len(doc["crs"])
    for collection in doc["collections"]:
        assert collection["crs"] == ["#/crs"]
        assert collection["storageCrs"] == CRS84


def test_a_collection_lists_its_crs_and_storage_crs(client):
    doc = client.get("/collections/districts").json()
    assert doc["crs"] == client.get("/collections").json()["crs"]
    assert doc["storageCrs"] == CRS84


@pytest.mark.parametrize("listed", ADVERTISED_CRS)
def test_every_listed_crs_works_for_crs_and_bbox_crs(client, listed):
    res = client.get("/collections/districts/items", params={"crs": listed, "limit": 3})
    assert res.status_code == 200 and res.headers["content-crs"] == f"<{listed}>"
    crs = resolve_crs("bbox-crs", listed)
    corners = crs.from_crs84(shapely.points([[55.3, 25.2], [55.5, 25.4]]))
    (ax, ay), (bx, by) = shapely.get_coordinates(corners)
    box = f"{min(ax, bx)},{min(ay, by)},{max(ax, bx)},{max(ay, by)}"
    res = client.get(
        f"/collections/districts/items?bbox={box}&bbox-crs={quote(listed, safe='')}&limit=200"
    )
    assert res.status_code == 200 and res.json()["numberReturned"] > 0


def test_conformance_and_openapi_declare_part_2(client):
    assert CRS_CLASS in client.get("/conformance").json()["conformsTo"]
    doc = client.get("/api").json()
    declared = doc["components"]["parameters"]
    assert declared["crs"]["name"] == "crs" and declared["bbox-crs"]["name"] == "bbox-crs"
    for path in ("/collections/{collectionId}/items", "/collections/districts/items"):
        refs = {p.get("$ref") for p in doc["paths"][path]["get"]["parameters"]}
        assert {"#/components/parameters/crs", "#/components/parameters/bbox-crs"} <= refs
    for path in (
        "/collections/{collectionId}/items/{featureId}",
        "/collections/districts/items/{featureId}",
    ):
        refs = {p.get("$ref") for p in doc["paths"][path]["get"]["parameters"]}
        assert "#/components/parameters/crs" in refs


# --- a real client ---------------------------------------------------------------------


@pytest.mark.parametrize("code", ["32640", "3997"])
def test_gdal_reads_the_api_in_a_projected_crs(live_server, code):
    import geopandas as gpd
    import pyogrio

    source = gpd.read_file(DATA / "districts.geojson", fid_as_index=True).to_crs(f"EPSG:{code}")
    got = pyogrio.read_dataframe(
        f"OAPIF:{live_server.url}", layer="districts", fid_as_index=True, CRS=f"EPSG:{code}"
    )
    assert got.crs.to_epsg() == int(code)
    assert sorted(got.index) == sorted(source.index)
    got = got.loc[source.index]
    assert got.geometry.geom_equals_exact(source.geometry, tolerance=1e-6).all()
    # GDAL sends its spatial filter as bbox + bbox-crs in the layer's CRS.
    box = shapely.box(*source.geometry.iloc[0].buffer(2000).bounds)
    found = pyogrio.read_dataframe(
        f"OAPIF:{live_server.url}",
        layer="districts",
        fid_as_index=True,
        CRS=f"EPSG:{code}",
        bbox=box.bounds,
    )
    expected = set(source.index[source.intersects(box)])
    assert 1 < len(expected) < len(source)
    assert set(found.index) == expected


# --- editing bodies in a CRS (Content-Crs request header) --------------------------------


@pytest.fixture
def editable(empty_settings, tmp_path):
    from fastapi.testclient import TestClient

    from gis_service.app import create_app
    from gis_service.domain.access import AccessPolicy, Role, Visibility
    from gis_service.ingest import IngestOptions, import_file
    from gis_service.store.factory import open_store

    store = open_store(empty_settings)
    auth = issue_key(store, "dm", Role.EDITOR)
    path = tmp_path / "sites.geojson"
    site = {"type": "Feature", "properties": {"name": "a"}, "geometry": None}
    site["geometry"] = {"type": "Point", "coordinates": [55.4, 25.3]}
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": [site]}))
    import_file(store, path, IngestOptions(collection_id="sites"))
    store.catalog.set_access("sites", AccessPolicy(owner="dm", visibility=Visibility.PUBLIC))
    store.close()
    with TestClient(create_app(empty_settings)) as client:
        yield client, auth


def point(xy) -> dict:
    return {
        "type": "Feature",
        "properties": {"name": "b"},
        "geometry": {"type": "Point", "coordinates": list(xy)},
    }


def test_edits_in_a_crs_with_content_crs_and_matching_etags(editable):
    client, auth = editable
    utm = Transformer.from_crs("EPSG:4326", "EPSG:32640", always_xy=True).transform(55.45, 25.31)
    utm_headers = {**auth, "Content-Crs": f"<{EPSG}32640>"}
    created = client.post("/collections/sites/items", json=point(utm), headers=utm_headers)
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    plain = client.get(url)
    np.testing.assert_allclose(plain.json()["geometry"]["coordinates"], [55.45, 25.31], atol=1e-9)
    in_utm = client.get(url, params={"crs": "EPSG:32640"})
    assert in_utm.headers["etag"] == created.headers["etag"] != plain.headers["etag"]

    # A tag of another CRS's representation does not match the body's CRS: 412.
    stale = client.put(
        url, json=point(utm), headers={**utm_headers, "If-Match": plain.headers["etag"]}
    )
    assert stale.status_code == 412

    # EPSG:4326 bodies are latitude first.
    lat_first = {**auth, "Content-Crs": f"<{EPSG}4326>"}
    tag = client.get(url, params={"crs": EPSG + "4326"}).headers["etag"]
    moved = client.put(url, json=point([25.2, 55.6]), headers={**lat_first, "If-Match": tag})
    assert moved.status_code == 200, moved.text
    assert client.get(url).json()["geometry"]["coordinates"] == pytest.approx([55.6, 25.2])
    assert moved.headers["etag"] == client.get(url, params={"crs": "EPSG:4326"}).headers["etag"]

    bad = client.post(
        "/collections/sites/items", json=point(utm), headers={**auth, "Content-Crs": "<EPSG:0>"}
    )
    assert bad.status_code == 400 and bad.json()["parameter"] == "Content-Crs"
    count = client.get("/collections/sites/items").json()["numberMatched"]
    assert count == 2  # the original and the one created above; nothing from the refused POST


def test_openapi_declares_content_crs_on_editing_bodies(client):
    paths = client.get("/api").json()["paths"]
    for path, method in (
        ("/collections/{collectionId}/items", "post"),
        ("/collections/{collectionId}/items/{featureId}", "put"),
        ("/collections/{collectionId}/items/{featureId}", "patch"),
    ):
        headers = {
            p.get("name") for p in paths[path][method]["parameters"] if p.get("in") == "header"
        }
        assert "Content-Crs" in headers, (path, method)

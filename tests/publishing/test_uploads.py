"""Publishing over HTTP: POST /collections, on both stores; hostile files store nothing."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import Role
from gis_service.store.base import Store
from gis_service.store.factory import open_store

from ..conftest import DATA, STORES, issue_key, make_settings

OWNER = "sha"


@pytest.fixture(scope="module", params=STORES)
def publisher(request, tmp_path_factory) -> Iterator[tuple[TestClient, dict, Store]]:
    settings = make_settings(
        request.param, request, tmp_path_factory.mktemp("uploads"), upload_max_bytes=3_000_000
    )
    store = open_store(settings)
    headers = {role.value: issue_key(store, OWNER, role, "Health", "الصحة") for role in Role}
    with TestClient(create_app(settings)) as client:
        yield client, headers, store
    store.close()


def post(client, headers, cid: str, name: str, content: bytes, **fields: str):
    return client.post(
        "/collections", headers=headers, data={"id": cid, **fields}, files={"file": (name, content)}
    )


def test_editor_publishes_a_private_collection(publisher):
    client, headers, _store = publisher
    content = (DATA / "districts.geojson").read_bytes()
    res = post(
        client,
        headers["editor"],
        "up-districts",
        "districts.geojson",
        content,
        title="Districts",
        title_ar="الأحياء",
        keywords="boundaries, أحياء",
        license="CC-BY-4.0",
        attribution="Sharjah Municipality",
        temporal="",
    )
    assert res.status_code == 201, res.text
    assert res.headers["location"].endswith("/collections/up-districts")
    body = res.json()
    assert body["report"]["features_stored"] == 100
    assert body["report"]["schema"][0] == {"name": "name_en", "type": "string"}
    doc = body["collection"]
    assert (doc["title"], doc["title_ar"], doc["keywords"]) == (
        "Districts",
        "الأحياء",
        ["boundaries", "أحياء"],
    )
    assert (doc["owner"], doc["visibility"]) == (OWNER, "private")
    assert client.get("/collections/up-districts", headers=headers["viewer"]).status_code == 200
    assert client.get("/collections/up-districts").status_code == 404  # private
    items = client.get(
        "/collections/up-districts/items?limit=100", headers=headers["viewer"]
    ).json()
    source = gpd.read_file(DATA / "districts.geojson")
    assert sorted(f["properties"]["name_ar"] for f in items["features"]) == sorted(source.name_ar)


def test_public_upload_and_a_zipped_shapefile(publisher, tmp_path: Path):
    client, headers, _store = publisher
    frame = gpd.read_file(DATA / "facilities.geojson").head(40).to_crs(32640)
    shp = tmp_path / "clinics.shp"
    frame[["name_ar", "category", "geometry"]].to_file(shp, encoding="utf-8")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zf:
        for part in tmp_path.glob("clinics.*"):
            zf.write(part, part.name)
    res = post(
        client,
        headers["admin"],
        "up-clinics",
        "clinics.zip",
        archive.getvalue(),
        visibility="public",
    )
    assert res.status_code == 201, res.text
    assert res.json()["report"]["source_crs"] == "EPSG:32640"
    got = client.get("/collections/up-clinics/items?limit=100").json()  # anonymous: public
    assert {f["properties"]["name_ar"] for f in got["features"]} == set(frame.name_ar)


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), (None, 401)])
def test_only_editors_and_admins_publish(publisher, who, status):
    client, headers, _store = publisher
    res = post(
        client,
        headers[who] if who else {},
        "up-nope",
        "a.geojson",
        (DATA / "districts.geojson").read_bytes(),
    )
    assert res.status_code == status


def test_existing_id_is_409(publisher):
    client, headers, _store = publisher
    content = (DATA / "coverage.geojson").read_bytes()
    assert post(client, headers["editor"], "up-twice", "c.geojson", content).status_code == 201
    again = post(client, headers["editor"], "up-twice", "c.geojson", content)
    assert again.status_code == 409


def zip_of(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return buffer.getvalue()


KML_XXE = b"""<?xml version="1.0"?>
<!DOCTYPE kml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<kml xmlns="http://www.opengis.net/kml/2.2"><Placemark><name>&xxe;</name>
<Point><coordinates>55.4,25.3</coordinates></Point></Placemark></kml>"""
GEOJSON = (DATA / "districts.geojson").read_bytes()


@pytest.mark.parametrize(
    ("name", "content", "fields", "status", "parameter", "says"),
    [
        ("evil.zip", zip_of({"../../etc/x.shp": b"x"}), {}, 400, None, "outside the archive"),
        ("evil.zip", zip_of({"/abs/x.shp": b"x"}), {}, 400, None, "outside the archive"),
        ("bomb.zip", zip_of({"a.geojson": b"0" * 2_000_000}), {}, 400, None, "expands"),
        ("xxe.kml", KML_XXE, {}, 400, None, "DOCTYPE"),
        ("xxe.kmz", zip_of({"doc.kml": KML_XXE}), {}, 400, None, "DOCTYPE"),
        ("a.geojson", GEOJSON, {"layer": "/vsicurl/http://127.0.0.1:9/x"}, 400, "layer", "virtual"),
        ("/vsizip/a.geojson", GEOJSON, {}, 400, None, "virtual"),
        ("a.gpkg", b"just some text, not a database", {}, 400, None, "not a gpkg"),
        ("a.geojson", b"\x89PNG\r\n\x1a\n", {}, 400, None, "not GeoJSON"),
        ("a.geojson", GEOJSON[: len(GEOJSON) // 2], {}, 400, None, "not a readable"),
        ("a.exe", b"MZ", {}, 400, None, "is not one of"),
        ("a.geojson", b"", {}, 400, None, "empty"),
        ("big.geojson", b"{" + b" " * 3_100_000 + b"}", {}, 413, None, "limited"),
        ("a.geojson", GEOJSON, {"id": "../etc"}, 400, "id", ""),
        ("a.geojson", GEOJSON, {"colour": "red"}, 400, "colour", ""),
    ],
)
def test_hostile_or_broken_uploads_store_nothing(
    publisher, name, content, fields, status, parameter, says
):
    client, headers, store = publisher
    fields = dict(fields)
    cid = fields.pop("id", "up-hostile")
    res = post(client, headers["admin"], cid, name, content, **fields)
    assert res.status_code == status, res.text
    problem = res.json()
    assert res.headers["content-type"] == "application/problem+json"
    if parameter:
        assert problem.get("parameter") == parameter
    assert says in problem["detail"]
    assert client.get("/collections/up-hostile", headers=headers["admin"]).status_code == 404
    assert "up-hostile" not in store.catalog.access_map()


def test_upload_without_a_file_is_400(publisher):
    client, headers, _store = publisher
    res = client.post("/collections", headers=headers["admin"], data={"id": "x"})
    assert res.status_code == 400
    assert res.json()["parameter"] == "file"


def geojson_of(features: list[tuple[float, float, str, int]]) -> bytes:
    import orjson

    return orjson.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"name": name, "beds": beds},
                    "geometry": {"type": "Point", "coordinates": [x, y]},
                }
                for x, y, name, beds in features
            ],
        }
    )


def items_of(client, headers, cid: str) -> list[dict]:
    return client.get(f"/collections/{cid}/items?limit=1000", headers=headers).json()["features"]


def test_replace_and_append_data(publisher):
    client, headers, _store = publisher
    first = geojson_of([(55.40, 25.30, "مستشفى أ", 10), (55.41, 25.31, "clinic b", 5)])
    assert post(client, headers["editor"], "up-data", "h.geojson", first).status_code == 201
    more = geojson_of([(55.42, 25.32, "مركز ج", 7)])
    res = client.post(
        "/collections/up-data/data",
        headers=headers["editor"],
        files={"file": ("more.geojson", more)},
    )
    assert res.status_code == 200, res.text
    assert res.json()["collection"]["extent"]["spatial"]["bbox"][0] == pytest.approx(
        [55.40, 25.30, 55.42, 25.32]
    )
    got = items_of(client, headers["viewer"], "up-data")
    assert [(f["id"], f["properties"]["name"]) for f in got] == [
        (1, "مستشفى أ"),
        (2, "clinic b"),
        (3, "مركز ج"),
    ]
    meta = client.get("/collections/up-data", headers=headers["viewer"]).json()
    assert meta["owner"] == OWNER  # access settings survive new data
    replaced = client.put(
        "/collections/up-data/data",
        headers=headers["admin"],
        files={"file": ("new.geojson", geojson_of([(55.5, 25.5, "only", 1)]))},
    )
    assert replaced.status_code == 200, replaced.text
    assert [f["properties"]["name"] for f in items_of(client, headers["viewer"], "up-data")] == [
        "only"
    ]


def test_append_must_fit_the_schema(publisher):
    client, headers, _store = publisher
    base = geojson_of([(55.40, 25.30, "a", 1)])
    assert post(client, headers["editor"], "up-schema", "a.geojson", base).status_code == 201
    import orjson

    odd = orjson.dumps(
        {
            "type": "FeatureCollection",
            "features": [
                {
                    "type": "Feature",
                    "properties": {"colour": "red"},
                    "geometry": {"type": "Point", "coordinates": [55.4, 25.3]},
                }
            ],
        }
    )
    res = client.post(
        "/collections/up-schema/data",
        headers=headers["editor"],
        files={"file": ("odd.geojson", odd)},
    )
    assert res.status_code == 400
    assert "colour" in res.json()["detail"]
    assert len(items_of(client, headers["viewer"], "up-schema")) == 1


@pytest.mark.parametrize(("who", "status"), [("viewer", 403), (None, 404)])
def test_only_writers_change_data(publisher, who, status):
    client, headers, _store = publisher
    base = geojson_of([(55.40, 25.30, "a", 1)])
    post(client, headers["editor"], "up-guarded", "a.geojson", base)
    res = client.put(
        "/collections/up-guarded/data",
        headers=headers[who] if who else {},
        files={"file": ("b.geojson", base)},
    )
    assert res.status_code == status  # anonymous cannot even see the private collection


def test_collection_page_shows_publisher_and_arabic_title(publisher):
    client, headers, _store = publisher
    content = (DATA / "districts.geojson").read_bytes()
    post(
        client,
        headers["editor"],
        "up-page",
        "d.geojson",
        content,
        title="Districts",
        title_ar="الأحياء",
        keywords="حدود,boundaries",
        license="CC-BY-4.0",
        visibility="public",
    )
    page = client.get("/collections/up-page?f=html").text
    assert 'lang="ar">الأحياء<' in page
    assert "sha (public)" in page and "CC-BY-4.0" in page and "حدود, boundaries" in page

"""OGC API Features Part 4 on both stores: ETags, If-Match, and who may edit."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Grant, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import STORES, issue_key, make_settings

SITES = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {
                "name": f"موقع {i}",
                "beds": i,
                "open": True,
                "since": f"2020-01-0{i + 1}",
            },
            "geometry": {"type": "Point", "coordinates": [55.4 + i / 100, 25.3]},
        }
        for i in range(3)
    ],
}


@pytest.fixture(params=STORES)
def world(request, tmp_path) -> Iterator[tuple[TestClient, dict]]:
    settings = make_settings(request.param, request, tmp_path)
    store = open_store(settings)
    headers = {}
    for entity, role in (
        ("sha", Role.EDITOR),
        ("sha", Role.VIEWER),
        ("police", Role.EDITOR),
        ("civil", Role.ADMIN),
    ):
        headers[f"{entity}-{role.value}"] = issue_key(store, entity, role)
    path = tmp_path / "sites.geojson"
    path.write_bytes(orjson.dumps(SITES))
    import_file(store, path, IngestOptions(collection_id="sites", temporal=("since", None)))
    store.catalog.set_access(
        "sites",
        AccessPolicy(owner="sha", visibility=Visibility.ENTITIES, entities={"police": Grant.WRITE}),
    )
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client, headers


def feature(name: str, beds: int, x: float = 55.5) -> dict:
    return {
        "type": "Feature",
        "properties": {"name": name, "beds": beds},
        "geometry": {"type": "Point", "coordinates": [x, 25.31]},
    }


def items(client, headers) -> dict[int, dict]:
    doc = client.get("/collections/sites/items?limit=100", headers=headers).json()
    return {f["id"]: f for f in doc["features"]}


def test_create_replace_patch_delete(world):
    client, h = world
    editor = h["sha-editor"]
    created = client.post("/collections/sites/items", json=feature("جديد", 9, 56.0), headers=editor)
    assert created.status_code == 201, created.text
    location, etag = created.headers["location"], created.headers["etag"]
    assert location.endswith("/collections/sites/items/4")
    got = client.get(location, headers=editor)
    assert got.headers["etag"] == etag
    assert got.json()["properties"]["name"] == "جديد"
    meta = client.get("/collections/sites", headers=editor).json()
    assert meta["extent"]["spatial"]["bbox"][0][2] == 56.0  # extent grew
    assert client.get("/collections/sites/items", headers=editor).json()["numberMatched"] == 4

    replaced = client.put(location, json=feature("بدل", 1), headers={**editor, "If-Match": etag})
    assert replaced.status_code == 200, replaced.text
    new_etag = replaced.headers["etag"]
    assert new_etag != etag
    body = client.get(location, headers=editor).json()
    assert body["properties"] == {"name": "بدل", "beds": 1, "open": None, "since": None}

    patched = client.patch(
        location,
        json={"properties": {"beds": 7, "open": False}},
        headers={**editor, "If-Match": new_etag},
    )
    assert patched.status_code == 200, patched.text
    body = client.get(location, headers=editor).json()
    assert body["properties"] == {"name": "بدل", "beds": 7, "open": False, "since": None}
    assert body["geometry"]["coordinates"] == [55.5, 25.31]  # geometry kept

    gone = client.delete(location, headers={**editor, "If-Match": patched.headers["etag"]})
    assert gone.status_code == 204
    assert client.get(location, headers=editor).status_code == 404
    assert sorted(items(client, editor)) == [1, 2, 3]


def test_writes_without_or_with_a_stale_etag_are_refused(world):
    client, h = world
    editor = h["sha-editor"]
    etag = client.get("/collections/sites/items/1", headers=editor).headers["etag"]
    assert (
        client.put("/collections/sites/items/1", json=feature("x", 1), headers=editor).status_code
        == 428
    )
    assert client.delete("/collections/sites/items/1", headers=editor).status_code == 428
    first = client.patch(
        "/collections/sites/items/1",
        json={"properties": {"beds": 50}},
        headers={**editor, "If-Match": etag},
    )
    assert first.status_code == 200
    second = client.patch(
        "/collections/sites/items/1",
        json={"properties": {"beds": 60}},
        headers={**editor, "If-Match": etag},
    )  # the same, now stale, tag
    assert second.status_code == 412
    assert items(client, editor)[1]["properties"]["beds"] == 50  # not overwritten
    assert (
        client.delete(
            "/collections/sites/items/99", headers={**editor, "If-Match": etag}
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    ("who", "status"),
    [("police-editor", 201), ("sha-viewer", 403), ("civil-admin", 404), (None, 404)],
)
def test_who_may_add_features(world, who, status):
    client, h = world
    res = client.post(
        "/collections/sites/items", json=feature("x", 1), headers=h[who] if who else {}
    )
    assert res.status_code == status


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"type": "Feature", "properties": {"colour": "red"}, "geometry": None}, "colour"),
        ({"type": "Feature", "properties": {"beds": "many"}, "geometry": None}, "beds"),
        ({"type": "Feature", "properties": {"since": "2020-02-30"}, "geometry": None}, "since"),
        (
            {
                "type": "Feature",
                "properties": {},
                "geometry": {"type": "Point", "coordinates": [500, 0]},
            },
            "geometry",
        ),
        ({"type": "Feature", "properties": {}, "geometry": {"type": "Blob"}}, "geometry"),
        ({"type": "FeatureCollection", "features": []}, "type"),
    ],
)
def test_invalid_features_are_400_and_change_nothing(world, body, parameter):
    client, h = world
    res = client.post("/collections/sites/items", json=body, headers=h["sha-editor"])
    assert res.status_code == 400, res.text
    assert res.json()["parameter"] == parameter
    assert len(items(client, h["sha-editor"])) == 3


def test_time_extent_grows_with_edits(world):
    client, h = world
    feature_2030 = {
        "type": "Feature",
        "properties": {"name": "later", "since": "2030-05-01"},
        "geometry": None,
    }
    assert (
        client.post(
            "/collections/sites/items", json=feature_2030, headers=h["sha-editor"]
        ).status_code
        == 201
    )
    interval = client.get("/collections/sites", headers=h["sha-editor"]).json()["extent"][
        "temporal"
    ]["interval"][0]
    assert interval == ["2020-01-01T00:00:00Z", "2030-05-01T00:00:00Z"]
    found = client.get(
        "/collections/sites/items?datetime=2030-01-01T00:00:00Z/..", headers=h["sha-editor"]
    ).json()
    assert [f["properties"]["name"] for f in found["features"]] == ["later"]

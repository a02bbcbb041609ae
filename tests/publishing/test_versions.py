"""Versions, reading old versions, rollback and the changes feed, on both stores."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import STORES, issue_key, make_settings, point_layer

SITES = point_layer(3, "site", number="beds")


@pytest.fixture(params=STORES)
def world(request, tmp_path) -> Iterator[tuple[TestClient, dict]]:
    settings = make_settings(request.param, request, tmp_path)
    store = open_store(settings)
    headers = {role.value: issue_key(store, "sha", role) for role in (Role.EDITOR, Role.VIEWER)}
    path = tmp_path / "sites.geojson"
    path.write_bytes(orjson.dumps(SITES))
    import_file(store, path, IngestOptions(collection_id="sites"))
    store.catalog.set_access("sites", AccessPolicy(owner="sha", visibility=Visibility.PRIVATE))
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client, headers


def names(client, headers, query: str = "") -> dict[int, str]:
    doc = client.get(f"/collections/sites/items?limit=100{query}", headers=headers).json()
    return {f["id"]: f["properties"]["name"] for f in doc["features"]}


def edit(client, h, method: str, fid: int, **kwargs):
    etag = client.get(f"/collections/sites/items/{fid}", headers=h).headers["etag"]
    return client.request(
        method, f"/collections/sites/items/{fid}", headers={**h, "If-Match": etag}, **kwargs
    )


def test_versions_history_changes_and_rollback(world):
    client, h = world
    editor = h["editor"]
    assert (
        edit(client, editor, "PATCH", 1, json={"properties": {"name": "renamed"}}).status_code
        == 200
    )  # v2
    assert (
        client.post(
            "/collections/sites/items",
            headers=editor,
            json={
                "type": "Feature",
                "properties": {"name": "new", "beds": 9},
                "geometry": {"type": "Point", "coordinates": [55.5, 25.3]},
            },
        ).status_code
        == 201
    )  # v3
    assert edit(client, editor, "DELETE", 2).status_code == 204  # v4

    listed = client.get("/collections/sites/versions", headers=editor).json()
    assert listed["current"] == 4
    assert [(v["version"], v["operation"], v["features"]) for v in listed["versions"]] == [
        (1, "import", 3),
        (2, "patch feature 1", 3),
        (3, "insert", 4),
        (4, "delete feature 2", 3),
    ]
    assert listed["versions"][1]["entity"] == "sha"
    assert listed["versions"][0]["report"]["features_stored"] == 3  # the import's report
    assert listed["versions"][1]["report"] is None  # an edit has none

    assert names(client, editor) == {1: "renamed", 3: "site 2", 4: "new"}
    assert names(client, editor, "&version=1") == {1: "site 0", 2: "site 1", 3: "site 2"}
    old = client.get("/collections/sites/items/1?version=1", headers=editor).json()
    assert old["properties"]["name"] == "site 0"

    feed = client.get("/collections/sites/changes?since=1", headers=editor).json()
    assert (feed["since"], feed["version"]) == (1, 4)
    assert [f["id"] for f in feed["inserted"]] == [4]
    assert [(f["id"], f["properties"]["name"]) for f in feed["updated"]] == [(1, "renamed")]
    assert feed["deleted"] == [2]

    restored = client.post("/collections/sites/versions/1/restore", headers=editor)
    assert restored.status_code == 200, restored.text
    assert names(client, editor) == {1: "site 0", 2: "site 1", 3: "site 2"}
    back = client.get("/collections/sites/changes?since=4", headers=editor).json()
    assert (
        [f["id"] for f in back["inserted"]],
        [f["id"] for f in back["updated"]],
        back["deleted"],
    ) == ([2], [1], [4])
    assert client.get("/collections/sites/changes?since=5", headers=editor).json()["inserted"] == []


def test_version_errors_and_permissions(world):
    client, h = world
    assert client.get("/collections/sites/items?version=7", headers=h["viewer"]).status_code == 404
    assert client.get("/collections/sites/items?version=0", headers=h["viewer"]).status_code == 400
    assert client.get("/collections/sites/changes", headers=h["viewer"]).status_code == 400
    assert client.get("/collections/sites/changes?since=x", headers=h["viewer"]).status_code == 400
    assert client.get("/collections/sites/versions").status_code == 404  # private
    assert client.get("/collections/sites/changes?since=1").status_code == 404
    assert (
        client.post("/collections/sites/versions/1/restore", headers=h["viewer"]).status_code == 403
    )
    assert (
        client.post("/collections/sites/versions/9/restore", headers=h["editor"]).status_code == 404
    )

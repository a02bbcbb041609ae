"""Every read and write is recorded, and each entity's admins see their collections' record."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Grant, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import DATA, STORES, issue_key, make_settings


@pytest.fixture(params=STORES)
def world(request, tmp_path) -> Iterator[tuple[TestClient, dict]]:
    settings = make_settings(request.param, request, tmp_path)
    store = open_store(settings)
    headers = {}
    for entity in ("sha", "police"):
        for role in (Role.ADMIN, Role.VIEWER):
            headers[f"{entity}-{role.value}"] = issue_key(store, entity, role)
    import_file(store, DATA / "districts.geojson", IngestOptions(collection_id="clinics"))
    store.catalog.set_access(
        "clinics",
        AccessPolicy(owner="sha", visibility=Visibility.ENTITIES, entities={"police": Grant.READ}),
    )
    import_file(store, DATA / "coverage.geojson", IngestOptions(collection_id="roads"))
    store.catalog.set_access("roads", AccessPolicy(owner="police", visibility=Visibility.PRIVATE))
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client, headers


def test_reads_are_recorded_for_the_owner(world):
    client, headers = world
    police = headers["police-viewer"]
    for rid in ("req-1", "req-2"):
        res = client.get(
            "/collections/clinics/items?limit=5", headers={**police, "X-Request-Id": rid}
        )
        assert res.headers["x-request-id"] == rid
    client.get("/collections/clinics/items/3", headers=police)
    client.get("/collections/roads/items?limit=2", headers=headers["police-admin"])
    events = client.get("/audit", headers=headers["sha-admin"]).json()["events"]
    assert [(e["request_id"], e["operation"], e["features"]) for e in events[-2:]] == [
        ("req-2", "items", 5),
        ("req-1", "items", 5),
    ]
    item = events[0]
    assert (item["operation"], item["features"], item["entity"], item["status"]) == (
        "item",
        1,
        "police",
        200,
    )
    police_key_id = police["Authorization"].split("_")[1]
    assert {e["key_id"] for e in events} == {police_key_id}
    assert {e["collection"] for e in events} == {"clinics"}  # not the police's own layer
    theirs = client.get("/audit", headers=headers["police-admin"]).json()["events"]
    assert {e["collection"] for e in theirs} == {"roads"}


def test_usage_per_collection_entity_and_day(world):
    client, headers = world
    for _ in range(3):
        client.get("/collections/clinics/items?limit=4", headers=headers["police-viewer"])
    client.get("/collections/clinics/items?limit=1", headers=headers["sha-viewer"])
    usage = client.get("/audit/usage", headers=headers["sha-admin"]).json()["usage"]
    today = datetime.now(UTC).strftime("%Y-%m-%d")
    assert {
        (u["day"], u["collection"], u["entity"], u["requests"], u["features"]) for u in usage
    } == {(today, "clinics", "police", 3, 12), (today, "clinics", "sha", 1, 1)}
    filtered = client.get("/audit/usage?collection=roads", headers=headers["sha-admin"]).json()
    assert filtered["usage"] == []  # not theirs


def test_uploads_and_access_changes_are_recorded(world):
    client, headers = world
    res = client.put(
        "/collections/clinics/access", headers=headers["sha-admin"], json={"visibility": "private"}
    )
    assert res.status_code == 200
    events = client.get("/audit?collection=clinics", headers=headers["sha-admin"]).json()
    assert events["events"][0]["operation"] == "access"


def test_hidden_reads_leave_no_trace_and_record_is_for_admins(world):
    client, headers = world
    assert client.get("/collections/roads/items", headers=headers["sha-viewer"]).status_code == 404
    assert client.get("/audit", headers=headers["police-admin"]).json()["events"] == []
    assert client.get("/audit", headers=headers["sha-viewer"]).status_code == 403
    assert client.get("/audit").status_code == 401
    assert client.get("/audit?datetime=yesterday", headers=headers["sha-admin"]).status_code == 400

"""Large uploads become background jobs: 202, then state, progress and report at /jobs/{id}."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import Role
from gis_service.store.factory import open_store

from ..conftest import DATA, STORES, issue_key, make_settings


@pytest.fixture(params=STORES)
def world(request, tmp_path) -> Iterator[tuple[TestClient, dict]]:
    settings = make_settings(request.param, request, tmp_path, upload_sync_max_bytes=1000)
    store = open_store(settings)
    headers = {}
    for entity in ("sha", "police"):
        headers[entity] = issue_key(store, entity, Role.EDITOR)
    store.close()
    with TestClient(create_app(settings)) as client:
        yield client, headers


def wait(client, url: str, headers: dict) -> dict:
    deadline = time.monotonic() + 60
    while True:
        doc = client.get(url, headers=headers).json()
        if doc["state"] in ("done", "failed"):
            return doc
        assert time.monotonic() < deadline, doc
        time.sleep(0.05)


def test_large_upload_runs_as_a_job(world):
    client, headers = world
    res = client.post(
        "/collections",
        headers=headers["sha"],
        data={"id": "big"},
        files={"file": ("f.geojson", (DATA / "facilities.geojson").read_bytes())},
    )
    assert res.status_code == 202, res.text
    location = res.headers["location"]
    assert res.json()["state"] in ("queued", "running", "done")
    done = wait(client, location, headers["sha"])
    assert done["state"] == "done", done
    assert done["report"]["features_stored"] == 5000
    assert done["progress"]["features_done"] == 5000
    items = client.get("/collections/big/items?limit=1", headers=headers["sha"]).json()
    assert items["numberMatched"] == 5000
    assert client.get(location, headers=headers["police"]).status_code == 404  # not theirs
    assert client.get(location).status_code == 404


def test_a_failing_job_says_why_and_stores_nothing(world):
    client, headers = world
    res = client.post(
        "/collections",
        headers=headers["sha"],
        data={"id": "broken", "temporal": "name_en"},
        files={"file": ("f.geojson", (DATA / "facilities.geojson").read_bytes())},
    )
    assert res.status_code == 202
    done = wait(client, res.headers["location"], headers["sha"])
    assert done["state"] == "failed"
    assert "not a date-time" in done["error"]
    assert client.get("/collections/broken", headers=headers["sha"]).status_code == 404

"""Execution and jobs on both stores: validation, hidden inputs, who sees a job,
async runs, dismissal, save_as and its provenance, time and memory limits."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import DATA, STORES, issue_key, make_settings

NEAREST = {
    "source": {"collection": "schools"},
    "target": {"collection": "districts"},
    "k": 2,
}


def _world(request, tmp_path, kind: str, **extra) -> tuple[TestClient, dict]:
    settings = make_settings(kind, request, tmp_path, **extra)
    store = open_store(settings)
    headers: dict[str, dict] = {"anonymous": {}}
    for name, entity, role in (
        ("creator", "sha", Role.EDITOR),
        ("colleague", "sha", Role.EDITOR),
        ("admin", "sha", Role.ADMIN),
        ("other", "police", Role.ADMIN),
    ):
        headers[name] = issue_key(store, entity, role)
    import_file(store, DATA / "districts.geojson", IngestOptions(collection_id="districts"))
    import_file(store, DATA / "districts.geojson", IngestOptions(collection_id="secret"))
    store.catalog.set_access("secret", AccessPolicy(owner="sha", visibility=Visibility.PRIVATE))
    path = tmp_path / "schools.geojson"
    path.write_text(
        '{"type":"FeatureCollection","features":['
        + ",".join(
            f'{{"type":"Feature","properties":{{"n":{i}}},'
            f'"geometry":{{"type":"Point","coordinates":[{55.38 + i / 50},25.33]}}}}'
            for i in range(5)
        )
        + "]}"
    )
    import_file(store, path, IngestOptions(collection_id="schools"))
    store.close()
    return TestClient(create_app(settings)), headers


@pytest.fixture(params=STORES)
def world(request, tmp_path) -> Iterator[tuple[TestClient, dict]]:
    client, headers = _world(request, tmp_path, request.param)
    with client:
        yield client, headers


def run(client, process, inputs, who, asynchronous=False):
    headers = dict(who)
    if asynchronous:
        headers["Prefer"] = "respond-async"
    return client.post(f"/processes/{process}/execution", json={"inputs": inputs}, headers=headers)


def wait(client, job_id, who) -> dict:
    for _ in range(200):
        doc = client.get(f"/jobs/{job_id}", headers=who).json()
        if doc["status"] not in ("accepted", "running"):
            return doc
        time.sleep(0.05)
    raise AssertionError(doc)


def test_processes_listed_and_described(world):
    client, _ = world
    listed = client.get("/processes").json()["processes"]
    assert {p["id"] for p in listed} == {
        "nearest",
        "within-distance",
        "join-aggregate",
        "coverage-gaps",
        "buffer",
        "intersection",
        "raster-values",  # tests/rasters/test_values.py
        "zonal-stats",  # tests/rasters/test_zonal.py
    }
    doc = client.get("/processes/nearest").json()
    assert doc["inputs"]["k"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 100,
        "default": 1,
    }
    assert "anyOf" in doc["inputs"]["source"]["schema"]
    assert client.get("/processes/nope").status_code == 404


@pytest.mark.parametrize(
    ("inputs", "parameter"),
    [
        ({**NEAREST, "k": 0}, "k"),
        ({**NEAREST, "k": "two"}, "k"),
        ({"target": NEAREST["target"]}, "source"),
        ({**NEAREST, "colour": 1}, "colour"),
        ({**NEAREST, "max_distance": -5}, "max_distance"),
        ({**NEAREST, "source": {"collection": "schools", "filter": "nope = 1"}}, "source.filter"),
        ({**NEAREST, "source": {"type": "Point", "coordinates": [500, 25]}}, "source"),
        ({**NEAREST, "target": 7}, "target"),
        ({**NEAREST, "save_as": "bad id!"}, "save_as"),
    ],
)
def test_invalid_inputs_are_400_naming_the_input(world, inputs, parameter):
    client, h = world
    res = run(client, "nearest", inputs, h["creator"])
    assert res.status_code == 400, res.text
    assert res.json()["parameter"] == parameter


def test_aggregate_properties_must_be_numbers(world):
    client, h = world
    inputs = {
        "zones": {"collection": "districts"},
        "features": {"collection": "districts"},
        "properties": ["name_en"],
    }
    res = run(client, "join-aggregate", inputs, h["creator"])
    assert res.status_code == 400 and res.json()["parameter"] == "properties"


@pytest.mark.parametrize("who", ["other", "anonymous"])
def test_hidden_inputs_are_404_like_absent(world, who):
    client, h = world
    hidden = run(client, "nearest", {**NEAREST, "target": {"collection": "secret"}}, h[who])
    absent = run(client, "nearest", {**NEAREST, "target": {"collection": "nothing"}}, h[who])
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"].replace("secret", "X") == absent.json()["detail"].replace(
        "nothing", "X"
    )
    assert (
        run(
            client, "nearest", {**NEAREST, "target": {"collection": "secret"}}, h["admin"]
        ).status_code
        == 200
    )


def test_async_job_visible_to_creator_and_admins_only(world):
    client, h = world
    res = run(client, "nearest", NEAREST, h["creator"], asynchronous=True)
    assert res.status_code == 201, res.text
    job = res.json()
    assert res.headers["location"].endswith(f"/jobs/{job['jobID']}")
    assert job["type"] == "process" and job["processID"] == "nearest"
    assert job["status"] in ("accepted", "running", "successful")
    done = wait(client, job["jobID"], h["creator"])
    assert done["status"] == "successful", done
    assert done["started"] and done["finished"] and done["progress"] == 100
    results = client.get(f"/jobs/{job['jobID']}/results", headers=h["creator"])
    assert results.status_code == 200
    assert len(results.json()["features"]) == 10
    for who in ("admin",):
        assert client.get(f"/jobs/{job['jobID']}", headers=h[who]).status_code == 200
    for who in ("colleague", "other", "anonymous"):
        assert client.get(f"/jobs/{job['jobID']}", headers=h[who]).status_code == 404
        assert client.get(f"/jobs/{job['jobID']}/results", headers=h[who]).status_code == 404
        assert client.delete(f"/jobs/{job['jobID']}", headers=h[who]).status_code == 404
    listed = {j["jobID"] for j in client.get("/jobs", headers=h["creator"]).json()["jobs"]}
    assert job["jobID"] in listed
    assert job["jobID"] in {
        j["jobID"] for j in client.get("/jobs", headers=h["admin"]).json()["jobs"]
    }
    for who in ("colleague", "other", "anonymous"):
        jobs = client.get("/jobs", headers=h[who]).json()["jobs"]
        assert job["jobID"] not in {j["jobID"] for j in jobs}


def test_dismiss(world):
    client, h = world
    job = run(
        client,
        "buffer",
        {"features": {"collection": "districts"}, "distance": 10},
        h["creator"],
        asynchronous=True,
    ).json()
    wait(client, job["jobID"], h["creator"])
    res = client.delete(f"/jobs/{job['jobID']}", headers=h["creator"])
    assert res.status_code == 200 and res.json()["status"] == "dismissed"
    assert client.get(f"/jobs/{job['jobID']}", headers=h["creator"]).json()["status"] == "dismissed"
    assert client.get(f"/jobs/{job['jobID']}/results", headers=h["creator"]).status_code == 404


def test_async_needs_a_key(world):
    client, h = world
    assert run(client, "nearest", NEAREST, h["anonymous"]).status_code == 200
    assert run(client, "nearest", NEAREST, h["anonymous"], asynchronous=True).status_code == 401


def test_save_as_makes_a_private_collection_with_provenance(world):
    client, h = world
    res = run(client, "nearest", {**NEAREST, "save_as": "near-schools"}, h["creator"])
    assert res.status_code == 201, res.text
    assert res.headers["location"].endswith("/collections/near-schools")
    items = client.get("/collections/near-schools/items?limit=100", headers=h["creator"]).json()
    assert len(items["features"]) == 10
    assert {"source_id", "target_id", "distance_m", "name_en"} <= set(
        items["features"][0]["properties"]
    )
    access = client.get("/collections/near-schools/access", headers=h["admin"]).json()
    assert access["owner"] == "sha" and access["visibility"] == "private"
    for who in ("other", "anonymous"):
        assert client.get("/collections/near-schools", headers=h[who]).status_code == 404
    version = client.get("/collections/near-schools/versions", headers=h["creator"]).json()
    record = version["versions"][0]
    assert record["operation"] == "process:nearest"
    report = record["report"]
    assert report["process"] == "nearest" and report["inputs"]["k"] == 2
    assert report["inputs"]["source"] == {"collection": "schools", "version": 1}
    assert report["inputs"]["target"] == {"collection": "districts", "version": 1}
    again = run(client, "nearest", {**NEAREST, "save_as": "near-schools"}, h["creator"])
    assert again.status_code == 409
    viewer_less = run(client, "nearest", {**NEAREST, "save_as": "x2"}, h["anonymous"])
    assert viewer_less.status_code == 401


@pytest.mark.parametrize("kind", STORES)
def test_limits_fail_cleanly(kind, request, tmp_path):
    client, h = _world(request, tmp_path, kind, process_timeout_s=1e-6)
    with client:
        res = run(client, "nearest", NEAREST, h["creator"])
        assert res.status_code == 503 and "time limit" in res.json()["detail"]
        job = run(client, "nearest", NEAREST, h["creator"], asynchronous=True).json()
        done = wait(client, job["jobID"], h["creator"])
        assert done["status"] == "failed" and "time limit" in done["message"]
        results = client.get(f"/jobs/{job['jobID']}/results", headers=h["creator"])
        assert results.status_code == 500 and "time limit" in results.json()["detail"]
        assert client.get("/processes").status_code == 200  # the server is fine


@pytest.mark.parametrize("kind", STORES)
def test_memory_limit_fails_cleanly(kind, request, tmp_path):
    client, h = _world(request, tmp_path, kind, process_max_features=50)
    with client:
        job = run(
            client,
            "buffer",
            {"features": {"collection": "districts"}, "distance": 5},
            h["creator"],
            asynchronous=True,
        ).json()
        done = wait(client, job["jobID"], h["creator"])
        assert done["status"] == "failed" and "in memory" in done["message"]
        small = {
            "source": {"type": "Point", "coordinates": [55.4, 25.3]},
            "target": {"collection": "schools"},
        }
        assert run(client, "nearest", small, h["creator"]).status_code == 200
        too_many = run(client, "nearest", NEAREST, h["creator"])  # 105 features
        assert too_many.status_code == 503 and "in memory" in too_many.json()["detail"]

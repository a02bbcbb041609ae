"""Who sees what: every endpoint x every visibility x every kind of caller, on both stores."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Entity, Grant, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.base import Store
from gis_service.store.factory import open_store

from ..conftest import DATA, STORES, issue_key, make_settings
from ..rasters.tiffs import write_signal_tif

OWNER, PARTNER, OTHER = "sha", "police", "civil"
COLLECTIONS = {
    "c-private": AccessPolicy(owner=OWNER, visibility=Visibility.PRIVATE),
    "c-entities": AccessPolicy(
        owner=OWNER, visibility=Visibility.ENTITIES, entities={PARTNER: Grant.READ}
    ),
    "c-authenticated": AccessPolicy(owner=OWNER, visibility=Visibility.AUTHENTICATED),
    "c-public": AccessPolicy(owner=OWNER, visibility=Visibility.PUBLIC),
}
#: Raster collections (COGs) under the same four policies: the same rule, the same 404s.
RASTERS = {f"r-{cid[2:]}": policy for cid, policy in COLLECTIONS.items()}
CALLERS = ["owner", "partner", "other", "anonymous"]
READABLE = {
    "owner": set(COLLECTIONS),
    "partner": {"c-entities", "c-authenticated", "c-public"},
    "other": {"c-authenticated", "c-public"},
    "anonymous": {"c-public"},
}
RASTER_READABLE = {caller: {f"r-{cid[2:]}" for cid in ids} for caller, ids in READABLE.items()}


@pytest.fixture(scope="module", params=STORES)
def world(request, tmp_path_factory) -> Iterator[tuple[TestClient, dict[str, dict], Store]]:
    settings = make_settings(request.param, request, tmp_path_factory.mktemp("access"))
    store = open_store(settings)
    for entity, en, ar in [
        (OWNER, "Health Authority", "هيئة الصحة"),
        (PARTNER, "Police", "الشرطة"),
        (OTHER, "Civil Defence", "الدفاع المدني"),
    ]:
        store.catalog.add_entity(Entity(id=entity, name_en=en, name_ar=ar))
    for cid, policy in COLLECTIONS.items():
        import_file(store, DATA / "districts.geojson", IngestOptions(collection_id=cid))
        store.catalog.set_access(cid, policy)
    tif = write_signal_tif(tmp_path_factory.mktemp("access-rasters") / "signal.tif", 64, 48)
    for rid, policy in RASTERS.items():
        store.catalog.set_access(rid, policy)  # in force before the data is visible
        import_file(store, tif, IngestOptions(collection_id=rid))
    headers = {
        "owner": issue_key(store, OWNER, Role.ADMIN),
        "owner-editor": issue_key(store, OWNER, Role.EDITOR),
        "partner": issue_key(store, PARTNER, Role.ADMIN),
        "other": issue_key(store, OTHER, Role.ADMIN),
        "anonymous": {},
    }
    with TestClient(create_app(settings)) as client:
        yield client, headers, store
    store.close()


ENDPOINTS = [
    "/collections/{cid}",
    "/collections/{cid}?f=html",
    "/collections/{cid}/items",
    "/collections/{cid}/items?f=html",
    "/collections/{cid}/items?bbox=55.3,25.2,55.6,25.5",
    "/collections/{cid}/items/1",
    "/collections/{cid}/items/1?f=html",
    "/collections/{cid}/items/99999",
    "/collections/{cid}/items?version=1",
    "/collections/{cid}/items?f=csv",
    "/collections/{cid}/items?f=gpkg&bbox=55.3,25.2,55.6,25.5",
    "/collections/{cid}/versions",
    "/collections/{cid}/changes?since=1",
    "/collections/{cid}/queryables",
    "/collections/{cid}/queryables?f=html",
    "/collections/{cid}/items?filter=name_en%20IS%20NOT%20NULL",
    "/collections/{cid}/tiles",
    "/collections/{cid}/tiles/WebMercatorQuad",
    "/collections/{cid}/tiles/WebMercatorQuad/tilejson.json",
    "/collections/{cid}/tiles/WebMercatorQuad/9/218/334",
    "/collections/{cid}/tiles/WorldCRS84Quad/8/92/334?filter=name_en%20IS%20NOT%20NULL",
    "/tiles/WebMercatorQuad/9/218/334?collections={cid}",
    "/tiles/WebMercatorQuad?collections={cid}",
    "/tiles/WebMercatorQuad/tilejson.json?collections={cid}",
    "/collections/{cid}/styles",
    "/collections/{cid}/styles/default",
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("cid", list(COLLECTIONS))
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_matrix_collection_endpoints(world, caller, cid, endpoint):
    client, headers, _store = world
    res = client.get(endpoint.format(cid=cid), headers=headers[caller])
    if cid in READABLE[caller]:
        expected = 404 if endpoint.endswith("99999") else 200
        assert res.status_code == expected, res.text
    else:
        assert res.status_code == 404, res.text
        html = "f=html" in endpoint  # a browser's error is a page (api/plumbing/problems.py)
        kind = "text/html; charset=utf-8" if html else "application/problem+json"
        assert res.headers["content-type"] == kind
        # hidden looks exactly like absent
        absent = client.get(endpoint.format(cid="no-such-thing"), headers=headers[caller])
        seen, unseen = (res.text, absent.text) if html else (res.json(), absent.json())
        if not html:
            seen, unseen = seen["detail"], unseen["detail"]
        assert seen.replace(cid, "X") == unseen.replace("no-such-thing", "X")


RASTER_ENDPOINTS = [
    "/collections/{cid}",
    "/collections/{cid}/coverage",
    "/collections/{cid}/coverage?f=png&properties=signal",
    "/collections/{cid}/coverage?subset=E(355000:356000)&scale-factor=2",
    "/collections/{cid}/coverage?bbox=55.55,25.35,55.6,25.4&version=1",
    "/collections/{cid}/coverage/domainset",
    "/collections/{cid}/coverage/rangetype?version=1",
    "/collections/{cid}/versions",
    "/collections/{cid}/map/tiles",
    "/collections/{cid}/map/tiles/WebMercatorQuad?colormap=magma",
    "/collections/{cid}/map/tiles/WebMercatorQuad/12/1749/2680",
    "/collections/{cid}/map/tiles/WorldCRS84Quad/11/735/2680?f=webp&rescale=-120,-50",
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("cid", list(RASTERS))
@pytest.mark.parametrize("endpoint", RASTER_ENDPOINTS)
def test_matrix_coverage_endpoints(world, caller, cid, endpoint):
    client, headers, _store = world
    res = client.get(endpoint.format(cid=cid), headers=headers[caller])
    if cid in RASTER_READABLE[caller]:
        assert res.status_code == 200, res.text
        return
    assert res.status_code == 404, res.text
    assert res.headers["content-type"] == "application/problem+json"
    absent = client.get(endpoint.format(cid="no-such-thing"), headers=headers[caller])
    assert res.json()["detail"].replace(cid, "X") == absent.json()["detail"].replace(
        "no-such-thing", "X"
    )


@pytest.mark.parametrize("caller", CALLERS)
def test_matrix_listings_show_only_what_may_be_seen(world, caller):
    client, headers, _store = world
    listed = {
        c["id"] for c in client.get("/collections", headers=headers[caller]).json()["collections"]
    }
    assert listed == READABLE[caller] | RASTER_READABLE[caller]
    html = client.get("/collections?f=html", headers=headers[caller]).text
    for cid in [*COLLECTIONS, *RASTERS]:
        readable = cid in READABLE[caller] | RASTER_READABLE[caller]
        assert (f"/collections/{cid}?" in html) == readable, cid
    paths = client.get("/api", headers=headers[caller]).json()["paths"]
    in_doc = {cid for cid in COLLECTIONS if f"/collections/{cid}/items" in paths}
    assert in_doc == READABLE[caller]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("cid", list(COLLECTIONS))
def test_matrix_access_settings(world, caller, cid):
    client, headers, _store = world
    res = client.get(f"/collections/{cid}/access", headers=headers[caller])
    if caller == "owner":
        assert res.status_code == 200
        assert res.json()["visibility"] == COLLECTIONS[cid].visibility.value
    elif cid in READABLE[caller]:
        assert res.status_code == (401 if caller == "anonymous" else 403)  # no key: 401
    else:
        assert res.status_code == 404


def test_owner_admin_changes_visibility(world):
    client, headers, store = world
    body = {"visibility": "entities", "entities": {OTHER: "read"}}
    try:
        res = client.put("/collections/c-private/access", json=body, headers=headers["owner"])
        assert res.status_code == 200, res.text
        assert res.json() == {"owner": OWNER, "visibility": "entities", "entities": {OTHER: "read"}}
        assert client.get("/collections/c-private", headers=headers["other"]).status_code == 200
        assert client.get("/collections/c-private", headers=headers["partner"]).status_code == 404
    finally:
        store.catalog.set_access("c-private", COLLECTIONS["c-private"])


@pytest.mark.parametrize(
    ("caller", "status"),
    [("owner-editor", 403), ("partner", 403), ("other", 404), ("anonymous", 404)],
)
def test_only_owner_admins_change_visibility(world, caller, status):
    client, headers, _store = world
    res = client.put(
        "/collections/c-entities/access", json={"visibility": "public"}, headers=headers[caller]
    )
    assert res.status_code == status
    assert client.get("/collections/c-entities").status_code == 404  # still not public


@pytest.mark.parametrize(
    ("body", "parameter"),
    [
        ({"visibility": "everyone"}, "visibility"),
        ({"visibility": "entities", "entities": {"nobody": "read"}}, "entities"),
        ({"visibility": "entities", "entities": {PARTNER: "delete"}}, "entities.police"),
        ({"visibility": "public", "owner": "me"}, "owner"),
        ({}, "visibility"),
    ],
)
def test_invalid_access_bodies_are_400(world, body, parameter):
    client, headers, _store = world
    res = client.put("/collections/c-public/access", json=body, headers=headers["owner"])
    assert res.status_code == 400
    assert res.json()["parameter"] == parameter


@pytest.mark.parametrize(
    "authorization",
    ["Bearer nonsense", "Basic dXNlcjpwYXNz", "Bearer gis_000000000000_" + "x" * 43],
)
def test_bad_keys_are_401_everywhere(world, authorization):
    client, _headers, _store = world
    for path in ("/collections", "/collections/c-public/items", "/api"):
        res = client.get(path, headers={"Authorization": authorization})
        assert res.status_code == 401
        assert res.headers["www-authenticate"].startswith("Bearer")


def test_keys_issued_and_revoked_through_the_api(world):
    client, headers, _store = world
    res = client.post(f"/entities/{OWNER}/keys", json={"role": "viewer"}, headers=headers["owner"])
    assert res.status_code == 201
    issued = res.json()
    mine = {"Authorization": f"Bearer {issued['key']}"}
    assert client.get("/collections/c-private", headers=mine).status_code == 200
    listed = client.get(f"/entities/{OWNER}/keys", headers=headers["owner"]).json()["keys"]
    assert issued["id"] in {k["id"] for k in listed}
    assert all("key" not in k and "secret_hash" not in k for k in listed)
    gone = client.delete(f"/entities/{OWNER}/keys/{issued['id']}", headers=headers["owner"])
    assert gone.status_code == 204
    assert client.get("/collections/c-private", headers=mine).status_code == 401


@pytest.mark.parametrize(
    "caller, status", [("owner-editor", 403), ("partner", 403), ("anonymous", 401)]
)
def test_only_an_entitys_admins_manage_its_keys(world, caller, status):
    client, headers, _store = world
    res = client.post(f"/entities/{OWNER}/keys", json={"role": "admin"}, headers=headers[caller])
    assert res.status_code == status


def test_keys_are_stored_only_as_hashes(world):
    _client, headers, store = world
    token = headers["owner"]["Authorization"].split()[1]
    key_id, secret = token.split("_", 2)[1:]
    record = store.catalog.find_key(key_id)
    assert record is not None and secret not in record.secret_hash and len(record.secret_hash) == 64


# -- processes and jobs: an input is read like any other read; a job is its creator's ----
PROCESS_RUNS = [
    ("buffer", {"features": {"collection": "{cid}"}, "distance": 10}),
    (
        "nearest",
        {
            "source": {"type": "Point", "coordinates": [55.4, 25.3]},
            "target": {"collection": "{cid}", "filter": "name_en IS NOT NULL"},
        },
    ),
]
#: job created by -> who else sees it (the creator's entity's admins; no one outside)
JOB_SEEN_BY = {"owner-editor": {"owner-editor", "owner"}, "partner": {"partner"}}


def _inputs(template: dict, cid: str) -> dict:
    import orjson

    return orjson.loads(orjson.dumps(template).decode().replace("{cid}", cid))


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("cid", list(COLLECTIONS))
@pytest.mark.parametrize(("process", "inputs"), PROCESS_RUNS)
def test_matrix_process_inputs(world, caller, cid, process, inputs):
    client, headers, _store = world
    url = f"/processes/{process}/execution"
    res = client.post(url, json={"inputs": _inputs(inputs, cid)}, headers=headers[caller])
    if cid in READABLE[caller]:
        assert res.status_code == 200, res.text
        return
    assert res.status_code == 404, res.text
    absent = client.post(
        url, json={"inputs": _inputs(inputs, "no-such-thing")}, headers=headers[caller]
    )
    assert res.json()["detail"].replace(cid, "X") == absent.json()["detail"].replace(
        "no-such-thing", "X"
    )


RASTER_PROCESS_RUNS = [
    (
        "raster-values",
        {
            "raster": {"collection": "{cid}"},
            "points": {"type": "Point", "coordinates": [55.56, 25.39]},
        },
    ),
    (
        "zonal-stats",
        {
            "raster": {"collection": "{cid}", "version": 1},
            "zones": {
                "type": "Polygon",
                "coordinates": [[[55.5, 25.3], [55.6, 25.3], [55.6, 25.4], [55.5, 25.3]]],
            },
            "threshold": -90,
        },
    ),
    (
        "coverage-gaps",
        {
            "raster": {"collection": "{cid}"},
            "features": {"type": "Point", "coordinates": [55.56, 25.39]},
            "threshold": -90,
        },
    ),
]


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("cid", list(RASTERS))
@pytest.mark.parametrize(("process", "inputs"), RASTER_PROCESS_RUNS)
def test_matrix_raster_process_inputs(world, caller, cid, process, inputs):
    client, headers, _store = world
    url = f"/processes/{process}/execution"
    res = client.post(url, json={"inputs": _inputs(inputs, cid)}, headers=headers[caller])
    if cid in RASTER_READABLE[caller]:
        assert res.status_code == 200, res.text
        return
    assert res.status_code == 404, res.text
    absent = client.post(
        url, json={"inputs": _inputs(inputs, "no-such-thing")}, headers=headers[caller]
    )
    assert res.json()["detail"].replace(cid, "X") == absent.json()["detail"].replace(
        "no-such-thing", "X"
    )


@pytest.mark.parametrize("creator", list(JOB_SEEN_BY))
def test_matrix_jobs(world, creator):
    client, headers, _store = world
    body = {"inputs": {"features": {"collection": "c-entities"}, "distance": 10}}
    start = {**headers[creator], "Prefer": "respond-async"}
    job = client.post("/processes/buffer/execution", json=body, headers=start).json()["jobID"]
    for _ in range(200):  # finished: its results are there for those who may see them
        if client.get(f"/jobs/{job}", headers=headers[creator]).json()["status"] == "successful":
            break
        time.sleep(0.05)
    for caller in [*CALLERS, "owner-editor"]:
        seen = caller in JOB_SEEN_BY[creator]
        for path in (f"/jobs/{job}", f"/jobs/{job}/results"):
            status = client.get(path, headers=headers[caller]).status_code
            assert (status != 404) == seen, (caller, path, status)
        listed = client.get("/jobs", headers=headers[caller]).json()["jobs"]
        assert (job in {j["jobID"] for j in listed}) == seen, caller
    for caller in set(headers) - JOB_SEEN_BY[creator]:
        assert client.delete(f"/jobs/{job}", headers=headers[caller]).status_code == 404
    assert client.delete(f"/jobs/{job}", headers=headers[creator]).status_code == 200

"""Review of issue 10's hardening: what an anonymous or outside caller can make the server do.

Both stores. Each test failed before its fix (or pins a path the access matrix lacked).
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Grant, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

from ..conftest import DATA, STORES, issue_key, make_settings, point_layer

OWNER, PARTNER, OTHER = "sha", "police", "civil"
POLICIES = {
    "r-private": AccessPolicy(owner=OWNER, visibility=Visibility.PRIVATE),
    "r-entities": AccessPolicy(
        owner=OWNER, visibility=Visibility.ENTITIES, entities={PARTNER: Grant.READ}
    ),
    "r-public": AccessPolicy(owner=OWNER, visibility=Visibility.PUBLIC),
}
READABLE = {
    "owner": set(POLICIES),
    "partner": {"r-entities", "r-public"},
    "other": {"r-public"},
    "anonymous": {"r-public"},
}


class World:
    """Three collections of two versions each (v2 current), keys, and one app."""

    def __init__(self, settings: Settings, tmp: Path) -> None:
        self.settings = settings
        self.store = open_store(settings)
        self.headers: dict[str, dict[str, str]] = {
            "owner": issue_key(self.store, OWNER, Role.ADMIN),
            "partner": issue_key(self.store, PARTNER, Role.ADMIN),
            "other": issue_key(self.store, OTHER, Role.ADMIN),
            "anonymous": {},
        }
        for cid, policy in POLICIES.items():
            for version in (1, 2):
                path = tmp / f"{cid}-{version}.geojson"
                path.write_bytes(orjson.dumps(point_layer(12, f"v{version}")))
                import_file(self.store, path, IngestOptions(collection_id=cid))
            self.store.catalog.set_access(cid, policy)

    def leases(self) -> int:
        return self.store.catalog._all("SELECT count(*) FROM {p}version_leases")[0][0]


@pytest.fixture(scope="module", params=STORES)
def world(request, tmp_path_factory) -> Iterator[tuple[World, TestClient]]:
    tmp = tmp_path_factory.mktemp("review10")
    built = World(make_settings(request.param, request, tmp), tmp)
    try:
        with TestClient(create_app(built.settings)) as client:
            yield built, client
    finally:
        built.store.close()


def cursor(version: int, fid: int = 3) -> str:
    raw = orjson.dumps({"d": "a", "id": fid, "v": version})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# -- leases: no caller makes the catalog grow ------------------------------------------------


def test_downloads_of_absent_versions_write_no_lease_rows(world):
    """An anonymous download naming a version that does not exist wrote a lease row for it
    (the hold came before the store's check): one row per number, 2**31 of them."""
    built, client = world
    before = built.leases()
    for version in (7, 1000, 2**31 - 1):
        res = client.get(f"/collections/r-public/items?f=csv&version={version}")
        assert res.status_code == 404, res.text
    assert built.leases() == before


def test_pinned_cursors_of_absent_versions_write_no_lease_rows(world):
    built, client = world
    before = built.leases()
    res = client.get(f"/collections/r-public/items?limit=2&cursor={cursor(99)}")
    assert res.status_code == 404, res.text
    assert built.leases() == before


# -- the access matrix's new paths -------------------------------------------------------------

CALLERS = ["owner", "partner", "other", "anonymous"]
HIDDEN_PATHS = [
    ("GET", "/collections/{cid}/items?limit=2&cursor=" + cursor(1)),
    ("GET", "/collections/{cid}/items?limit=2&cursor=" + cursor(2)),
    ("GET", "/collections/{cid}/items?limit=2&cursor=" + cursor(9)),
    ("GET", "/collections/{cid}/items?f=html&limit=2&cursor=" + cursor(1)),
    ("GET", "/collections/{cid}/items?f=csv&version=1"),
    ("GET", "/collections/{cid}/items?f=csv&version=9"),
    ("GET", "/collections/{cid}/versions"),
    ("GET", "/collections/{cid}/changes?since=1"),
    ("GET", "/collections/{cid}/changes?since=9"),
    ("POST", "/collections/{cid}/versions/1/restore"),
    ("POST", "/collections/{cid}/versions/9/restore"),
    ("POST", "/collections/{cid}/versions/x/restore"),
]


HIDDEN = [(caller, cid) for caller in CALLERS for cid in POLICIES if cid not in READABLE[caller]]


@pytest.mark.parametrize(("caller", "cid"), HIDDEN)
@pytest.mark.parametrize(("method", "path"), HIDDEN_PATHS)
@pytest.mark.parametrize("html", [False, True])
def test_hidden_collections_look_absent_on_the_new_paths(world, caller, cid, method, path, html):
    """Pinned cursors (of versions that exist, are current, or never were), downloads of
    versions, sizes, changes and restores, as JSON and as pages: hidden is absent."""
    built, client = world
    headers = dict(built.headers[caller])
    if html:
        headers["Accept"] = "text/html"
    before = built.leases()
    res = client.request(method, path.format(cid=cid), headers=headers)
    absent = client.request(method, path.format(cid="no-such-thing"), headers=headers)
    assert res.status_code == absent.status_code == 404, res.text
    assert res.headers["content-type"] == absent.headers["content-type"]
    assert res.text.replace(cid, "X") == absent.text.replace("no-such-thing", "X")
    assert built.leases() == before


@pytest.mark.parametrize("caller", CALLERS)
def test_pinned_pages_and_sizes_for_those_who_may_read(world, caller):
    built, client = world
    headers = built.headers[caller]
    for cid in READABLE[caller]:
        first = client.get(f"/collections/{cid}/items?version=1&limit=5", headers=headers)
        assert first.status_code == 200
        nxt = next(lk["href"] for lk in first.json()["links"] if lk["rel"] == "next")
        page = client.get(nxt, headers=headers)
        assert page.status_code == 200
        assert {f["properties"]["name"].split()[0] for f in page.json()["features"]} == {"v1"}
        sizes = client.get(f"/collections/{cid}/versions", headers=headers).json()
        assert sizes["bytes"] > 0


@pytest.mark.parametrize("caller", ["partner", "other", "anonymous"])
def test_only_writers_restore(world, caller):
    built, client = world
    res = client.post("/collections/r-public/versions/1/restore", headers=built.headers[caller])
    assert res.status_code == (401 if caller == "anonymous" else 403), res.text
    assert built.store.get_collection("r-public").version == 2


def test_ready_answers_anyone_and_says_nothing_else(world):
    _built, client = world
    res = client.get("/ready")
    assert res.status_code == 200 and res.json() == {"status": "ready"}


# -- bad input never answers 500 ---------------------------------------------------------------

BAD = [
    "/collections/r-public/changes?since=2147483647",
    "/collections/r-public/changes?since=2",
    "/collections/r-public/changes?since=99999999999999999999",
    "/collections/r-public/items?version=2147483648",
    "/collections/r-public/items?limit=2&cursor=" + cursor(2**31 - 1),
    "/collections/r-public/items?version=1&cursor=" + cursor(2),
    "/collections/r-public/items?version=1&offset=3&limit=2",
    "/collections/r-public/items/1?version=9",
    "/collections/r-public/items?f=html&version=9",
]


@pytest.mark.parametrize("path", BAD)
def test_bad_version_input_is_never_a_500(world, path):
    _built, client = world
    res = client.get(path)
    assert res.status_code < 500, res.text


def test_a_deeply_nested_value_holding_nul_is_a_400(empty_settings: Settings):
    """Locating an escaped NUL walked nested values recursively: RecursionError, 500."""
    store = open_store(empty_settings)
    headers = issue_key(store, OWNER, Role.EDITOR)
    store.close()
    nested = "[" * 600 + '"a\\u0000b"' + "]" * 600
    feature = '{"type":"Feature","properties":{"p":' + nested + '},"geometry":null}'
    body = '{"type":"FeatureCollection","features":[' + feature + "]}"
    with TestClient(create_app(empty_settings), raise_server_exceptions=False) as client:
        res = client.post(
            "/collections",
            headers=headers,
            data={"id": "deep"},
            files={"file": ("deep.geojson", body.encode(), "application/geo+json")},
        )
        assert res.status_code == 400, res.text
        assert "NUL" in res.json()["detail"] and "'p'" in res.json()["detail"]
        assert client.get("/collections/deep", headers=headers).status_code == 404


@pytest.mark.parametrize("direction", ["a", "b"])
def test_a_cursor_whose_sort_value_holds_nul_is_a_400(client, direction):
    """No cursor this service issues holds a NUL (no stored text does); a forged one was
    bound as a text parameter on PostGIS: 'invalid byte sequence', 500."""
    raw = orjson.dumps({"d": direction, "id": 1, "k": ["a\x00b"]})
    token = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    res = client.get(f"/collections/districts/items?sortby=name_en&cursor={token}")
    assert res.status_code == 400, res.text
    assert res.json()["parameter"] == "cursor"


def test_sharing_bodies_and_key_ids_holding_nul_are_not_500s(empty_settings: Settings):
    """An entity name or a key id holding NUL reached PostgreSQL as text: 500 there."""
    store = open_store(empty_settings)
    headers = issue_key(store, OWNER, Role.ADMIN)
    import_file(store, DATA / "districts.geojson", IngestOptions(collection_id="shared"))
    store.catalog.set_access("shared", POLICIES["r-private"])
    store.close()
    body = {"visibility": "entities", "entities": {"a\x00b": "read"}}
    with TestClient(create_app(empty_settings), raise_server_exceptions=False) as client:
        res = client.put("/collections/shared/access", json=body, headers=headers)
        assert res.status_code == 400, res.text
        assert res.json()["parameter"] == "entities"
        res = client.delete(f"/entities/{OWNER}/keys/ab%00c", headers=headers)
        assert res.status_code == 404, res.text
        assert client.get("/collections/shared/access", headers=headers).json()["entities"] == {}

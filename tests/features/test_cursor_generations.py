"""Paging pins the generation it started on; version parameters accept only real numbers."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.access import AccessPolicy, Role, Visibility
from gis_service.domain.query import Cursor
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import STORES, issue_key, make_settings, point_layer

FEATURES = 25


def sites(label: str, count: int = FEATURES) -> bytes:
    return orjson.dumps(point_layer(count, label, per_degree=1000, number="rank"))


@pytest.fixture(params=STORES)
def world(request, tmp_path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = make_settings(request.param, request, tmp_path)
    store = open_store(settings)
    auth = issue_key(store, "sha", Role.ADMIN)
    path = tmp_path / "sites.geojson"
    path.write_bytes(sites("first"))
    import_file(store, path, IngestOptions(collection_id="sites"))
    store.catalog.set_access("sites", AccessPolicy(owner="sha", visibility=Visibility.PUBLIC))
    store.close()
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client, auth


def replace(client: TestClient, headers: dict[str, str], label: str, count: int = FEATURES):
    response = client.put(
        "/collections/sites/data",
        headers=headers,
        files={"file": ("sites.geojson", sites(label, count), "application/geo+json")},
    )
    assert response.status_code in (200, 201), response.text


def next_href(doc: dict) -> str | None:
    return next((link["href"] for link in doc["links"] if link["rel"] == "next"), None)


def prev_href(doc: dict) -> str | None:
    return next((link["href"] for link in doc["links"] if link["rel"] == "prev"), None)


def labels(doc: dict) -> set[str]:
    return {f["properties"]["name"].split()[0] for f in doc["features"]}


@pytest.mark.parametrize("extra", ["", "&sortby=-rank", "&offset=5"])
def test_next_links_stay_on_the_generation_paging_started_on(world, extra):
    client, h = world
    doc = client.get(f"/collections/sites/items?limit=5{extra}").json()
    seen = [f["properties"]["name"] for f in doc["features"]]
    generation = 0
    while href := next_href(doc):
        generation += 1
        replace(client, h, f"gen{generation}")  # a new current version before every page
        doc = client.get(href).json()
        assert labels(doc) == {"first"}, href
        seen += [f["properties"]["name"] for f in doc["features"]]
    expected = FEATURES - (5 if extra == "&offset=5" else 0)
    assert len(seen) == len(set(seen)) == expected
    back = client.get(prev_href(doc)).json()  # prev links are pinned too
    assert labels(back) == {"first"}
    # A new first page reads the current version.
    assert labels(client.get("/collections/sites/items?limit=5").json()) == {f"gen{generation}"}


def test_pinned_cursor_reads_the_current_version_as_one(world):
    client, _h = world
    doc = client.get("/collections/sites/items?limit=10").json()
    page2 = client.get(next_href(doc)).json()  # no replace meanwhile: still the current one
    assert [f["id"] for f in page2["features"]] == list(range(11, 21))
    query = parse_qs(urlsplit(next_href(page2)).query)
    assert "version" not in query  # inside the cursor
    assert Cursor.decode(query["cursor"][0]).version == 1


def test_cursor_of_another_version_than_asked_is_400(world):
    client, h = world
    replace(client, h, "second")
    pinned = next_href(client.get("/collections/sites/items?limit=5&version=1").json())
    cursor = parse_qs(urlsplit(pinned).query)["cursor"][0]
    assert labels(client.get(pinned).json()) == {"first"}
    response = client.get(f"/collections/sites/items?limit=5&version=2&cursor={cursor}")
    assert response.status_code == 400
    assert response.json()["parameter"] == "cursor"


BAD_NUMBERS = [
    "99999999999999999999",
    "2147483648",
    "²",
    "١",
    "١٢",
    "%00",
    "1%00",
    "0",
    "-1",
    "1.0",
]


@pytest.mark.parametrize("text", BAD_NUMBERS)
def test_bad_version_parameters_are_400_naming_them(world, text):
    client, h = world
    for url, parameter in (
        (f"/collections/sites/items?version={text}", "version"),
        (f"/collections/sites/items/1?version={text}", "version"),
        (f"/collections/sites/items?f=csv&version={text}", "version"),
        (f"/collections/sites/changes?since={text}", "since"),
    ):
        response = client.get(url, headers=h)
        assert response.status_code == 400, (url, response.text)
        assert response.json()["parameter"] == parameter, url
    # The largest number both stores hold is a number: a version that does not exist.
    assert client.get("/collections/sites/items?version=2147483647").status_code == 404
    assert client.get("/collections/sites/changes?since=2147483647", headers=h).status_code == 404
    assert client.get("/collections/sites/items?version=0001").status_code == 200


@pytest.mark.parametrize("text", BAD_NUMBERS)
def test_restore_of_a_version_that_cannot_exist_is_404(world, text):
    client, h = world
    response = client.post(f"/collections/sites/versions/{text}/restore", headers=h)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"] == "application/problem+json"


def test_an_edit_between_pages_does_not_show_in_the_pages_after(world):
    client, h = world
    doc = client.get("/collections/sites/items?limit=10").json()
    etag = client.get("/collections/sites/items/15").headers["etag"]
    edited = client.patch(
        "/collections/sites/items/15",
        headers={**h, "If-Match": etag},
        json={"properties": {"name": "edited 15"}},
    )
    assert edited.status_code == 200, edited.text
    page2 = client.get(next_href(doc)).json()
    names = {f["id"]: f["properties"]["name"] for f in page2["features"]}
    assert names[15] == "first 14"  # the version paging started on
    fresh = client.get("/collections/sites/items/15").json()
    assert fresh["properties"]["name"] == "edited 15"

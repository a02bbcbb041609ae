"""Collections list and collection metadata (OGC /req/core/fc-md-*, sfc-md-*)."""

from __future__ import annotations

import geopandas as gpd
import pytest

from ..conftest import DATA


def test_collections_list(client):
    res = client.get("/collections")
    assert res.status_code == 200
    doc = res.json()
    ids = [c["id"] for c in doc["collections"]]
    assert {"facilities", "districts", "coverage", "countries", "places"} <= set(ids)
    assert {"self", "alternate"} <= {link["rel"] for link in doc["links"]}


def test_collection_metadata(client):
    doc = client.get("/collections/facilities").json()
    assert doc["id"] == "facilities"
    assert doc["title"] == "Facilities"
    assert doc["itemType"] == "feature"
    assert doc["crs"][0] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"  # more: test_crs.py
    assert doc["storageCrs"] == "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
    source = gpd.read_file(DATA / "facilities.geojson")
    minx, miny, maxx, maxy = source.total_bounds
    assert doc["extent"]["spatial"]["bbox"][0] == pytest.approx([minx, miny, maxx, maxy])
    assert doc["extent"]["spatial"]["crs"].endswith("CRS84")
    interval = doc["extent"]["temporal"]["interval"][0]
    first, last = source.opened.min().date(), source.opened.max().date()
    assert interval == [f"{first}T00:00:00Z", f"{last}T00:00:00Z"]
    items = [link for link in doc["links"] if link["rel"] == "items"]
    assert {link["type"] for link in items} == {"application/geo+json", "text/html"}
    for link in doc["links"]:
        assert link["rel"] and link["type"]


def test_collection_without_time_has_no_temporal_extent(client):
    doc = client.get("/collections/districts").json()
    assert "temporal" not in doc["extent"]
    assert "spatial" in doc["extent"]


def test_unknown_collection_is_404_problem(client):
    for path in (
        "/collections/nope",
        "/collections/nope/items",
        "/collections/nope/items/1",
        "/collections/..%2f..%2fetc/items",
    ):
        res = client.get(path)
        assert res.status_code == 404, path
        assert res.headers["content-type"] == "application/problem+json"

"""`sortby`, `properties` and `skipGeometry`: order, paging through sorted results, errors.

Expected orders are computed here from the source files, independently of both stores:
NULLs first ascending and last descending, text in code point order, the id breaking ties.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..conftest import CQL2_DATA, DATA
from ..ordering import expected_order

PLACES = CQL2_DATA / "geojson" / "ne_110m_populated_places_simple.geojson"


def _source(path) -> dict[int, dict[str, Any]]:
    return {f["id"]: f["properties"] for f in json.loads(path.read_text())["features"]}


FACILITIES = {
    i + 1: f["properties"]
    for i, f in enumerate(json.loads((DATA / "facilities.geojson").read_text())["features"])
}


def walk(client, url: str, rel: str = "next") -> tuple[list[int], list[dict]]:
    ids: list[int] = []
    pages = []
    while url:
        body = client.get(url).json()
        pages.append(body)
        ids += [f["id"] for f in body["features"]]
        found = [link["href"] for link in body["links"] if link["rel"] == rel]
        url = found[0] if found else None
    return ids, pages


@pytest.mark.parametrize(
    "sortby",
    [
        "name",
        "-name",
        "namealt,name",
        "-namealt",
        "date,-pop_max",
        "-boolean,meganame",
        "adm0name,-pop_min",
    ],
)
def test_sorted_pages_visit_every_place_once_in_order(client, sortby):
    rows = _source(PLACES)
    ids, pages = walk(client, f"/collections/places/items?limit=17&sortby={sortby}")
    assert ids == expected_order(rows, sortby)
    assert all(p["numberMatched"] == len(rows) for p in pages)


def test_prev_links_walk_back_through_the_same_order(client):
    rows = _source(PLACES)
    forward, pages = walk(client, "/collections/places/items?limit=20&sortby=-namealt,name")
    last = pages[-1]["links"]
    start = next(link["href"] for link in last if link["rel"] == "self")
    back = []
    body = client.get(start).json()
    while True:
        back = [f["id"] for f in body["features"]] + back
        prev = [link["href"] for link in body["links"] if link["rel"] == "prev"]
        if not prev:
            break
        body = client.get(prev[0]).json()
    assert back == forward == expected_order(rows, "-namealt,name")


def test_sorting_combines_with_filters_and_offset(client):
    rows = {fid: props for fid, props in FACILITIES.items() if props["category"] == "school"}
    order = expected_order(rows, "-capacity,name_ar")
    url = "/collections/facilities/items?category=school&sortby=-capacity,name_ar&limit=50"
    ids, pages = walk(client, url)
    assert ids == order
    assert pages[0]["numberMatched"] == len(rows)
    body = client.get(url + "&offset=60").json()
    assert [f["id"] for f in body["features"]] == order[60:110]


def test_arabic_text_sorts_by_code_point(client):
    order = expected_order(FACILITIES, "name_ar")
    body = client.get("/collections/facilities/items?sortby=name_ar&limit=300").json()
    assert [f["id"] for f in body["features"]] == order[:300]
    names = [f["properties"]["name_ar"] for f in body["features"]]
    assert names == sorted(names)


def test_properties_and_skip_geometry(client):
    body = client.get(
        "/collections/facilities/items?limit=5&properties=name_ar,capacity&skipGeometry=true"
    ).json()
    for feature in body["features"]:
        assert feature["geometry"] is None
        assert feature["properties"] == {
            "name_ar": FACILITIES[feature["id"]]["name_ar"],
            "capacity": FACILITIES[feature["id"]]["capacity"],
        }
    one = client.get("/collections/facilities/items/7?properties=category").json()
    assert one["properties"] == {"category": FACILITIES[7]["category"]}
    assert one["geometry"]["type"] == "Point"
    empty = client.get("/collections/facilities/items/7?properties=").json()
    assert empty["properties"] == {}


def test_shaping_keeps_sorted_cursors_working(client):
    url = "/collections/facilities/items?sortby=capacity&properties=name_en&limit=400"
    ids, pages = walk(client, url)
    assert ids == expected_order(FACILITIES, "capacity")
    assert all(set(f["properties"]) == {"name_en"} for p in pages for f in p["features"])


@pytest.mark.parametrize(
    ("query", "parameter", "words"),
    [
        ("sortby=nope", "sortby", "nope"),
        ("sortby=name,,pop_max", "sortby", "empty"),
        ("sortby=name,-name", "sortby", "twice"),
        ("sortby=a,b,c,d,e,f", "sortby", "a"),
        ("properties=name,nope", "properties", "nope"),
        ("skipGeometry=maybe", "skipGeometry", "maybe"),
        ("sortby=name&cursor=eyJkIjoiYSIsImlkIjozfQ", "cursor", "sortby"),
        ("sortby=pop_max&cursor=eyJkIjoiYSIsImlkIjozLCJrIjpbInRleHQiXX0", "cursor", "sortby"),
        ("cursor=eyJkIjoiYSIsImlkIjoxZTMwfQ", "cursor", "cursor"),
    ],
)
def test_bad_shaping_parameters_are_400(client, query, parameter, words):
    response = client.get(f"/collections/places/items?{query}")
    assert response.status_code == 400, response.text
    problem = response.json()
    assert parameter in problem["detail"] and words in problem["detail"]


def test_huge_cursor_id_is_400(client):
    import base64

    token = base64.urlsafe_b64encode(b'{"d":"a","id":100000000000000000000000}').decode()
    response = client.get(f"/collections/places/items?cursor={token.rstrip('=')}")
    assert response.status_code == 400

"""Bad input is a clear 4xx problem+json naming the parameter, never a 500."""

from __future__ import annotations

import pytest

ITEMS = "/collections/facilities/items"


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "1,2,3,4,5"}, "bbox"),
        ({"bbox": "0,10,1,5"}, "bbox"),  # lower latitude above upper
        ({"bbox": "0,-95,1,5"}, "bbox"),  # latitude out of range
        ({"bbox": "-190,0,1,5"}, "bbox"),  # longitude out of range
        ({"bbox": "nan,0,1,5"}, "bbox"),
        ({"bbox": "inf,0,1,5"}, "bbox"),
        ({"bbox": "0,0,5,1,1,0"}, "bbox"),  # min height above max height
        ({"bbox": ""}, "bbox"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "0"}, "limit"),
        ({"limit": "-5"}, "limit"),
        ({"limit": "1.5"}, "limit"),
        ({"offset": "-1"}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"datetime": "yesterday"}, "datetime"),
        ({"datetime": "2020-13-01T00:00:00Z"}, "datetime"),
        ({"datetime": "2020-01-01T00:00:00Z/2019-01-01T00:00:00Z"}, "datetime"),
        ({"datetime": "../.."}, "datetime"),
        ({"datetime": "2020-01-01/2020-02-01/2020-03-01"}, "datetime"),
        ({"datetime": ""}, "datetime"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"capacity": "many"}, "capacity"),
        ({"opened": "2020-02-30"}, "opened"),
        ({"colour": "red"}, "colour"),
        ({"f": "pdf"}, "f"),
    ],
)
def test_invalid_items_parameters(client, params, parameter):
    res = client.get(ITEMS, params=params)
    assert res.status_code == 400, res.text
    assert res.headers["content-type"] == "application/problem+json"
    body = res.json()
    assert body["status"] == 400
    assert body["parameter"] == parameter
    assert parameter in body["detail"]


def test_repeated_parameter_is_400(client):
    res = client.get(f"{ITEMS}?limit=1&limit=2")
    assert res.status_code == 400
    assert res.json()["parameter"] == "limit"


def test_cursor_and_offset_together_is_400(client):
    first = client.get(ITEMS).json()
    nxt = next(link["href"] for link in first["links"] if link["rel"] == "next")
    res = client.get(nxt + "&offset=5")
    assert res.status_code == 400
    assert res.json()["parameter"] == "offset"


def test_huge_offset_is_an_empty_page_not_an_error(client):
    res = client.get(ITEMS, params={"offset": 10**12})
    assert res.status_code == 200
    assert res.json()["features"] == []


def test_errors_never_leak_as_500(client):
    for path in (
        "/collections/facilities/items/%00",
        "/collections/%20/items",
        "/collections/facilities/items?bbox=1e400,0,1,1",
    ):
        res = client.get(path)
        assert 400 <= res.status_code < 500, (path, res.status_code)

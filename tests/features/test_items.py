"""Items: bbox, datetime, equality filters, limit, paging and single features, on both stores.

Expectations are computed directly from the source files with GeoPandas/Shapely.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import pytest
import shapely

from ..conftest import CQL2_DATA, DATA


@pytest.fixture(scope="module")
def facilities() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "facilities.geojson", fid_as_index=True)


@pytest.fixture(scope="module")
def districts() -> gpd.GeoDataFrame:
    return gpd.read_file(DATA / "districts.geojson", fid_as_index=True)


def all_ids(client, path: str, params: dict) -> list[int]:
    """Follow `next` links to the end, returning every id in order."""
    ids: list[int] = []
    res = client.get(path, params=params)
    while True:
        assert res.status_code == 200, res.text
        doc = res.json()
        assert doc["numberReturned"] == len(doc["features"])
        ids += [f["id"] for f in doc["features"]]
        nxt = [link for link in doc["links"] if link["rel"] == "next"]
        if not nxt:
            return ids
        assert nxt[0]["type"] == "application/geo+json"
        res = client.get(nxt[0]["href"])


def check_bbox(client, collection: str, box: tuple, expected: list[int]) -> None:
    """The whole selection and its count, in one page."""
    doc = client.get(
        f"/collections/{collection}/items",
        params={"bbox": ",".join(map(str, box)), "limit": 10_000},
    ).json()
    assert sorted(f["id"] for f in doc["features"]) == expected
    assert doc["numberMatched"] == len(expected)


def test_items_default_page(client, facilities):
    res = client.get("/collections/facilities/items")
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/geo+json"
    doc = res.json()
    assert doc["type"] == "FeatureCollection"
    assert doc["numberReturned"] == 10 and len(doc["features"]) == 10
    assert doc["numberMatched"] == len(facilities)
    assert doc["timeStamp"].endswith("Z")
    rels = {link["rel"] for link in doc["links"]}
    assert {"self", "alternate", "next"} <= rels and "prev" not in rels
    first = doc["features"][0]
    src = facilities.loc[first["id"]]
    assert first["properties"]["name_ar"] == src["name_ar"]
    assert first["geometry"]["coordinates"] == [src.geometry.x, src.geometry.y]


def test_arabic_text_round_trips_exactly(client, facilities):
    res = client.get("/collections/facilities/items", params={"limit": 1000})
    for feature in res.json()["features"]:
        src = facilities.loc[feature["id"]]
        assert feature["properties"]["name_ar"].encode() == src["name_ar"].encode()
        assert feature["properties"]["name_en"] == src["name_en"]


@pytest.mark.parametrize("limit", [1, 7, 500])
def test_paging_visits_every_feature_once(client, districts, limit):
    ids = all_ids(client, "/collections/districts/items", {"limit": limit})
    assert ids == sorted(districts.index.tolist())


def test_paging_filtered_selection_and_prev_links(client, facilities):
    expected = sorted(facilities.index[facilities.category == "hospital"].tolist())
    ids = all_ids(client, "/collections/facilities/items", {"category": "hospital", "limit": 9})
    assert ids == expected
    # walk forward two pages, then back with prev
    page1 = client.get(
        "/collections/facilities/items", params={"category": "hospital", "limit": 9}
    ).json()
    nxt = next(link["href"] for link in page1["links"] if link["rel"] == "next")
    page2 = client.get(nxt).json()
    prev = next(link["href"] for link in page2["links"] if link["rel"] == "prev")
    back = client.get(prev).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in page1["features"]]
    assert not [link for link in back["links"] if link["rel"] == "prev"]


def test_offset_paging(client, districts):
    ids = sorted(districts.index.tolist())
    doc = client.get("/collections/districts/items", params={"limit": 5, "offset": 10}).json()
    assert [f["id"] for f in doc["features"]] == ids[10:15]
    links = {link["rel"]: link["href"] for link in doc["links"]}
    assert "offset=15" in links["next"] and "offset=5" in links["prev"]


def test_limit_is_clamped_to_the_maximum(client):
    doc = client.get("/collections/facilities/items", params={"limit": 50_000}).json()
    assert doc["numberReturned"] == 5000  # whole layer; the maximum is 10,000


def test_bbox_points(client, facilities):
    box = (55.38, 25.30, 55.42, 25.34)
    expected = sorted(facilities.index[facilities.intersects(shapely.box(*box))].tolist())
    assert expected, "the test box should not be empty"
    check_bbox(client, "facilities", box, expected)


def test_bbox_polygons_exact_not_envelope(client, districts):
    """A box inside some polygons' envelopes but outside the polygons themselves."""
    box = shapely.box(55.45, 25.25, 55.47, 25.27)
    exact = set(districts.index[districts.intersects(box)])
    by_envelope = set(districts.index[districts.envelope.intersects(box)])
    doc = client.get(
        "/collections/districts/items", params={"bbox": "55.45,25.25,55.47,25.27", "limit": 1000}
    ).json()
    assert {f["id"] for f in doc["features"]} == exact
    assert by_envelope >= exact


def test_bbox_with_six_numbers(client, facilities):
    four = client.get(
        "/collections/facilities/items", params={"bbox": "55.38,25.30,55.42,25.34", "limit": 1000}
    ).json()
    six = client.get(
        "/collections/facilities/items",
        params={"bbox": "55.38,25.30,-100,55.42,25.34,9000", "limit": 1000},
    ).json()
    assert [f["id"] for f in six["features"]] == [f["id"] for f in four["features"]]


def test_bbox_across_the_antimeridian(client):
    countries = gpd.read_file(
        CQL2_DATA / "ne110m4cql2.gpkg", layer="ne_110m_admin_0_countries", fid_as_index=True
    )
    west, east = shapely.box(170, -60, 180, 80), shapely.box(-180, -60, -170, 80)
    hits = countries.intersects(west) | countries.intersects(east)
    expected = sorted(countries.index[hits].tolist())
    doc = client.get(
        "/collections/countries/items", params={"bbox": "170,-60,-170,80", "limit": 1000}
    ).json()
    assert sorted(f["id"] for f in doc["features"]) == expected
    assert len(expected) >= 3  # Fiji, Russia, New Zealand, the USA ...


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        ("2010-01-01T00:00:00Z/2012-12-31T23:59:59Z", date(2010, 1, 1), date(2012, 12, 31)),
        ("2020-06-01T00:00:00Z/..", date(2020, 6, 1), None),
        ("../1980-12-31T12:00:00Z", None, date(1980, 12, 31)),
        ("/1980-12-31T12:00:00Z", None, date(1980, 12, 31)),
        ("2020-06-01T00:00:00Z/", date(2020, 6, 1), None),
        ("2001-05-04", date(2001, 5, 4), date(2001, 5, 4)),
        ("2001-05-04T10:00:00+04:00", date(2001, 5, 4), date(2001, 5, 4)),
    ],
)
def test_datetime_on_a_date_property(client, facilities, value, low, high):
    opened = facilities.opened.dt.date
    mask = opened.map(lambda d: (low is None or d >= low) and (high is None or d <= high))
    expected = sorted(facilities.index[mask].tolist())
    ids = all_ids(client, "/collections/facilities/items", {"datetime": value, "limit": 10_000})
    assert ids == expected


def test_datetime_on_a_datetime_property(client):
    coverage = gpd.read_file(DATA / "coverage.geojson", fid_as_index=True)
    stamps = coverage.updated.astype(str)
    pick = sorted(stamps)[len(stamps) // 2]
    instant = pick.replace(" ", "T")
    res = client.get("/collections/coverage/items", params={"datetime": instant, "limit": 1000})
    got = {f["id"]: f["properties"]["updated"] for f in res.json()["features"]}
    assert got, instant
    assert all(v.startswith(instant[:19]) for v in got.values())


def test_datetime_on_collection_without_time_matches_everything(client, districts):
    doc = client.get(
        "/collections/districts/items", params={"datetime": "2020-01-01T00:00:00Z", "limit": 1000}
    ).json()
    assert doc["numberReturned"] == len(districts)


@pytest.mark.parametrize(
    ("params", "column", "value"),
    [
        ({"category": "school"}, "category", "school"),
        ({"entity": "sha", "category": "clinic"}, None, None),
        ({"capacity": "230"}, "capacity", 230),
    ],
)
def test_equality_filters(client, facilities, params, column, value):
    mask = True
    for key, text in params.items():
        typed = int(text) if key == "capacity" else text
        mask = mask & (facilities[key] == typed)
    expected = sorted(facilities.index[mask].tolist())
    ids = all_ids(client, "/collections/facilities/items", {**params, "limit": 10_000})
    assert ids == expected
    doc = client.get("/collections/facilities/items", params={**params, "limit": 1}).json()
    assert doc["numberMatched"] == len(expected)


def test_equality_on_arabic_text(client, facilities):
    name = facilities.name_ar.iloc[42]
    doc = client.get("/collections/facilities/items", params={"name_ar": name}).json()
    assert [f["properties"]["name_ar"] for f in doc["features"]] == [name]


def test_single_feature(client, facilities):
    res = client.get("/collections/facilities/items/42")
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/geo+json"
    doc = res.json()
    assert doc["id"] == 42
    assert doc["properties"]["name_en"] == facilities.loc[42, "name_en"]
    rels = {link["rel"]: link for link in doc["links"]}
    assert {"self", "alternate", "collection"} <= set(rels)


@pytest.mark.parametrize("fid", ["0", "999999", "abc", "1.5"])
def test_missing_feature_is_404(client, fid):
    res = client.get(f"/collections/facilities/items/{fid}")
    assert res.status_code == 404
    assert res.headers["content-type"] == "application/problem+json"


def test_html_items_page_lists_features(client, facilities):
    res = client.get("/collections/facilities/items", params={"f": "html", "limit": 3})
    assert res.status_code == 200
    assert facilities.loc[1, "name_ar"] in res.text
    assert 'rel="next"' in res.text


@pytest.fixture(scope="module")
def catalogue() -> gpd.GeoDataFrame:
    from ..conftest import ROOT

    return gpd.read_file(ROOT / "tests" / "data" / "catalogue.geojson", fid_as_index=True)


@pytest.mark.parametrize(
    "box",
    [
        (55.45, 25.45, 55.55, 25.55),  # inside the hole of the square: only the diagonal line
        (55.39, 25.29, 55.41, 25.31),  # the points (2D and 3D)
        (55.0, 25.0, 55.0, 25.0),  # a degenerate box on shared vertices
        (-180, -90, 180, 90),  # everything: the table-scan path
        (0.0, 0.0, 1.0, 1.0),  # nothing with geometry
        (179.0, -17.0, -179.0, -16.0),  # across the antimeridian
        (57.9, 22.9, 58.05, 23.05),  # part of a geometry collection
    ],
)
def test_bbox_over_every_geometry_type(client, catalogue, box):
    """Exact intersection for each type; features without geometry match every box."""
    if box[0] > box[2]:
        hit = catalogue.intersects(shapely.box(box[0], box[1], 180, box[3])) | catalogue.intersects(
            shapely.box(-180, box[1], box[2], box[3])
        )
    else:
        hit = catalogue.intersects(shapely.box(*box))
    expected = sorted(catalogue.index[hit | catalogue.geometry.isna()].tolist())
    check_bbox(client, "catalogue", box, expected)


def test_geometry_types_round_trip(client, catalogue):
    doc = client.get("/collections/catalogue/items", params={"limit": 100}).json()
    assert len(doc["features"]) == len(catalogue)
    for feature in doc["features"]:
        source = catalogue.geometry.loc[feature["id"]]
        if source is None:
            assert feature["geometry"] is None
        else:
            assert shapely.geometry.shape(feature["geometry"]).equals_exact(source, 0)
            assert feature["geometry"]["type"] == source.geom_type
    point3d = next(f for f in doc["features"] if f["id"] == 2)
    assert point3d["geometry"]["coordinates"] == [55.4, 25.3, 12.5]


def test_datetime_skips_features_without_time(client, catalogue):
    """/req/core/fc-time-response: a feature with no time is in no interval."""
    assert catalogue["when"].isna().any()
    doc = client.get(
        "/collections/catalogue/items",
        params={"datetime": "2024-01-01T00:00:00Z/2024-01-31T00:00:00Z"},
    ).json()
    assert sorted(f["id"] for f in doc["features"]) == [1, 2]


def test_single_feature_etag_and_conditional_get(client):
    first = client.get("/collections/facilities/items/42")
    etag = first.headers["etag"]
    assert etag.startswith('"') and len(etag) == 34
    assert client.get("/collections/facilities/items/42").headers["etag"] == etag  # stable
    assert client.get("/collections/facilities/items/43").headers["etag"] != etag
    again = client.get("/collections/facilities/items/42", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/collections/facilities/items/42", headers={"If-None-Match": '"x"'})
    assert other.status_code == 200

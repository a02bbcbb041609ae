"""Every process on both stores against GeoPandas / pyproj on the same files."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import Geod

from ..conftest import DATA

GEOD = Geod(ellps="WGS84")
FACILITIES = gpd.read_file(DATA / "facilities.geojson")
DISTRICTS = gpd.read_file(DATA / "districts.geojson")
COVERAGE = gpd.read_file(DATA / "coverage.geojson")


def execute(client, process: str, inputs: dict, **headers) -> dict:
    res = client.post(f"/processes/{process}/execution", json={"inputs": inputs}, headers=headers)
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "application/geo+json"
    return res.json()


def geodesic(a, b) -> float:
    return GEOD.inv(a.x, a.y, b.x, b.y)[2]


def test_nearest_matches_geod(client):
    schools = FACILITIES[FACILITIES.category == "school"]
    clinics = FACILITIES[FACILITIES.category == "clinic"]
    doc = execute(
        client,
        "nearest",
        {
            "source": {"collection": "facilities", "filter": "category = 'school'"},
            "target": {"collection": "facilities", "filter": "category = 'clinic'"},
            "k": 3,
        },
    )
    got = {}
    for f in doc["features"]:
        got.setdefault(f["properties"]["source_id"], []).append(f["properties"]["distance_m"])
    assert len(got) == len(schools)
    cx, cy = clinics.geometry.x.to_numpy(), clinics.geometry.y.to_numpy()
    for fid in list(got)[:40]:
        s = FACILITIES.geometry.iloc[fid - 1]
        d = np.sort(GEOD.inv(np.full(len(cx), s.x), np.full(len(cx), s.y), cx, cy)[2])[:3]
        assert np.allclose(got[fid], d, rtol=1e-9, atol=1e-6), fid


def test_nearest_max_distance_and_inline(client):
    point = {"type": "Point", "coordinates": [55.45, 25.33]}
    doc = execute(
        client,
        "nearest",
        {"source": point, "target": {"collection": "facilities"}, "k": 50, "max_distance": 1500},
    )
    p = shapely.Point(55.45, 25.33)
    d = np.array([geodesic(p, g) for g in FACILITIES.geometry])
    want = np.sort(d[d <= 1500])[:50]
    assert [f["properties"]["distance_m"] for f in doc["features"]] == pytest.approx(want)
    assert all("category" in f["properties"] for f in doc["features"])


def test_within_distance(client):
    point = {"type": "Point", "coordinates": [55.40, 25.30]}
    doc = execute(
        client,
        "within-distance",
        {"source": point, "target": {"collection": "facilities"}, "distance": 2000},
    )
    p = shapely.Point(55.40, 25.30)
    d = np.array([geodesic(p, g) for g in FACILITIES.geometry])
    want = set((np.flatnonzero(d <= 2000) + 1).tolist())
    assert {f["properties"]["target_id"] for f in doc["features"]} == want
    for f in doc["features"]:
        assert f["properties"]["distance_m"] == pytest.approx(d[f["properties"]["target_id"] - 1])


def test_join_aggregate(client):
    doc = execute(
        client,
        "join-aggregate",
        {
            "zones": {"collection": "districts"},
            "features": {"collection": "facilities", "filter": "category = 'school'"},
            "properties": ["capacity"],
        },
    )
    schools = FACILITIES[FACILITIES.category == "school"]
    joined = gpd.sjoin(schools, DISTRICTS, predicate="within")
    groups = joined.groupby("index_right")["capacity"]
    assert len(doc["features"]) == len(DISTRICTS)
    for i, f in enumerate(doc["features"]):
        props = f["properties"]
        if i in groups.groups:
            assert props["count"] == groups.size()[i]
            assert props["capacity_sum"] == pytest.approx(groups.sum()[i])
            assert props["capacity_mean"] == pytest.approx(groups.mean()[i])
            assert props["capacity_min"] == groups.min()[i]
            assert props["capacity_max"] == groups.max()[i]
        else:
            assert props["count"] == 0 and props["capacity_mean"] is None


def test_coverage_gaps(client):
    doc = execute(
        client,
        "coverage-gaps",
        {
            "features": {"collection": "facilities", "filter": "category = 'clinic'"},
            "coverage": {"collection": "coverage", "filter": "technology = '5G'"},
        },
    )
    clinics = FACILITIES[FACILITIES.category == "clinic"]
    five = COVERAGE[COVERAGE.technology == "5G"]
    covered = gpd.sjoin(clinics, five, predicate="intersects").index.unique()
    gaps = clinics.drop(covered)
    assert {f["properties"]["feature_id"] for f in doc["features"]} == set(gaps.index + 1)
    utm = gaps.estimate_utm_crs()
    union = five.to_crs(utm).union_all()
    planar = gaps.to_crs(utm).distance(union)
    for f in doc["features"][:50]:
        want = planar[f["properties"]["feature_id"] - 1]
        assert f["properties"]["distance_m"] == pytest.approx(want, rel=2e-3)


def test_buffer_area(client):
    doc = execute(
        client,
        "buffer",
        {
            "features": {"collection": "facilities", "filter": "category = 'school'"},
            "distance": 500,
        },
    )
    for f in doc["features"][:20]:
        geom = shapely.geometry.shape(f["geometry"])
        assert f["properties"]["area_m2"] == pytest.approx(
            abs(GEOD.geometry_area_perimeter(geom)[0])
        )
        # a 500 m disc, drawn with 64 segments
        assert f["properties"]["area_m2"] == pytest.approx(np.pi * 500**2, rel=5e-3)


def test_intersection_area(client):
    doc = execute(
        client,
        "intersection",
        {
            "input": {"collection": "districts", "filter": "code <= 'SHJ-010'"},
            "overlay": {"collection": "coverage", "filter": "technology = '5G'"},
        },
    )
    five = COVERAGE[COVERAGE.technology == "5G"].reset_index()
    ten = DISTRICTS.iloc[:10].reset_index()
    over = gpd.overlay(ten, five, how="intersection", keep_geom_type=True)
    area = sum(abs(GEOD.geometry_area_perimeter(g)[0]) for g in over.geometry)
    got = sum(f["properties"]["area_m2"] for f in doc["features"])
    assert got == pytest.approx(area, rel=1e-6)

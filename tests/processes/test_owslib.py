"""OWSLib's OGC API - Processes client lists, describes and executes our processes."""

from __future__ import annotations

from owslib.ogcapi.processes import Processes


def test_owslib_lists_and_executes(live_server):
    client = Processes(live_server.url)
    ids = {p["id"] for p in client.processes()}
    assert {"nearest", "join-aggregate", "coverage-gaps"} <= ids
    described = client.process("join-aggregate")
    assert set(described["inputs"]) >= {"zones", "features", "properties", "statistics"}
    doc = client.execute(
        "join-aggregate",
        inputs={
            "zones": {"collection": "districts"},
            "features": {"collection": "facilities", "filter": "category = 'clinic'"},
            "properties": ["capacity"],
            "statistics": ["sum"],
        },
    )
    features = doc["result"]["features"]
    assert len(features) == 100
    assert sum(f["properties"]["count"] for f in features) > 0
    assert all("capacity_sum" in f["properties"] for f in features)
    raw = client.execute(
        "buffer",
        inputs={"features": {"type": "Point", "coordinates": [55.4, 25.3]}, "distance": 100},
        response="raw",
    )
    assert raw["type"] == "FeatureCollection"
    assert 31_000 < raw["features"][0]["properties"]["area_m2"] < 31_500

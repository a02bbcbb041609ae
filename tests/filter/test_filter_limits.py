"""Expensive filters are cut off by the statement timeout on both stores, cleanly."""

from __future__ import annotations

import math

import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.ingest import IngestOptions, import_file
from gis_service.store.factory import open_store

from ..conftest import DATA, STORES, make_settings

CIRCLE = ",".join(
    f"{55.4 + 0.3 * math.cos(2 * math.pi * i / 1200):.6f}"
    f" {25.3 + 0.3 * math.sin(2 * math.pi * i / 1200):.6f}"
    for i in range(1200)
)
# about half a second on either store here: GEOS on 5,000 points against 1,200 vertices,
# and Unicode folding of every name
EXPENSIVE = (
    f"S_CROSSES(geom, LINESTRING({CIRCLE})) OR ACCENTI(CASEI(name_ar)) LIKE '%x%'"
    " OR ACCENTI(CASEI(name_en)) LIKE '%x%'"
)


@pytest.mark.parametrize("kind", STORES)
def test_expensive_filter_times_out(kind, request, tmp_path):
    settings = make_settings(kind, request, tmp_path, statement_timeout_ms=40)
    store = open_store(settings)
    try:
        import_file(store, DATA / "facilities.geojson", IngestOptions(collection_id="facilities"))
    finally:
        store.close()
    with TestClient(create_app(settings)) as client:
        res = client.get("/collections/facilities/items", params={"filter": EXPENSIVE})
        assert res.status_code == 503, res.text
        assert res.headers["content-type"] == "application/problem+json"
        body = res.json()
        assert body["title"] == "Query too expensive" and "40 ms" in body["detail"]
        # the connection is fine afterwards, and cheap filters still answer
        res = client.get(
            "/collections/facilities/items", params={"filter": "capacity > 100", "limit": "1"}
        )
        assert res.status_code == 200, res.text
        assert res.json()["numberMatched"] > 0

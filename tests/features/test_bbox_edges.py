"""`bbox` is exact on both stores: features on an edge or a corner are in, a hair outside
is out, whatever shortcut the store takes for features well inside (index box rounding,
the PostGIS shrunk-box test, the GeoPackage envelope header)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

ITEMS = "/collections/edges/items"
BOX = (55.4, 25.3, 55.41, 25.31)
HAIR = 1e-9
LINE = {"type": "LineString", "coordinates": [[55.395, 25.305], [55.4 - HAIR, 25.305]]}
SQUARE = {  # inside the box, touching nothing: the shrunk-box shortcut takes it
    "type": "Polygon",
    "coordinates": [[[55.402, 25.302], [55.403, 25.302], [55.403, 25.303], [55.402, 25.302]]],
}
CROSSING = {  # its bounding box sticks out: only the exact test takes it
    "type": "LineString",
    "coordinates": [[55.39, 25.305], [55.405, 25.305]],
}


def _features() -> tuple[list[dict], set[int]]:
    x0, y0, x1, y1 = BOX
    inside = [
        (x0, y0), (x1, y1), (x0, y1), (x1, y0),  # corners
        (x0, 25.305), (x1, 25.305), (55.405, y0), (55.405, y1),  # edges
        (x0 + HAIR, y0 + HAIR), (55.405, 25.305),  # just inside, middle
    ]  # fmt: skip
    outside = [(x0 - HAIR, 25.305), (x1 + HAIR, 25.305), (55.405, y0 - HAIR), (55.405, y1 + 1e-7)]
    geometries = [{"type": "Point", "coordinates": list(p)} for p in inside + outside]
    geometries += [LINE, SQUARE, CROSSING]
    expected = set(range(1, len(inside) + 1)) | {len(geometries) - 1, len(geometries)}
    features = [
        {"type": "Feature", "id": i + 1, "geometry": g, "properties": {"n": i + 1}}
        for i, g in enumerate(geometries)
    ]
    return features, expected


@pytest.fixture
def client(empty_settings: Settings, tmp_path: Path):
    features, _expected = _features()
    path = tmp_path / "edges.geojson"
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    store = open_store(empty_settings)
    try:
        import_file(store, path, IngestOptions(collection_id="edges", title="Edges"))
    finally:
        store.close()
    with TestClient(create_app(empty_settings)) as client:
        yield client


def _ids(client: TestClient, box: tuple[float, ...], **params: str) -> tuple[list[int], int]:
    bbox = ",".join(repr(c) for c in box)
    body = client.get(ITEMS, params={"bbox": bbox, "limit": "100", **params}).json()
    return [f["id"] for f in body["features"]], body["numberMatched"]


def test_edges_and_corners_are_in_a_hair_outside_is_out(client: TestClient) -> None:
    expected = _features()[1]
    ids, matched = _ids(client, BOX)
    assert ids == sorted(expected)
    assert matched == len(expected)


def test_pages_through_a_box_give_each_feature_once_in_id_order(client: TestClient) -> None:
    expected = _features()[1]
    seen: list[int] = []
    bbox = ",".join(repr(c) for c in BOX)
    body = client.get(ITEMS, params={"bbox": bbox, "limit": "3"}).json()
    for _page in range(10):
        seen += [f["id"] for f in body["features"]]
        url = next((link["href"] for link in body["links"] if link["rel"] == "next"), None)
        if url is None:
            break
        body = client.get(url).json()
    assert seen == sorted(expected)


@pytest.mark.parametrize(
    ("box", "ids"),
    [
        ((55.4, 25.3, 55.4, 25.31), [1, 3, 5, 17]),  # a line: the west edge
        ((55.4, 25.3, 55.4, 25.3), [1]),  # a point on a corner
        ((55.405, 25.305, 55.405, 25.305), [10, 17]),  # a point: the middle, and a line on it
    ],
)
def test_degenerate_boxes_are_exact(client: TestClient, box: tuple, ids: list[int]) -> None:
    assert _ids(client, box)[0] == ids

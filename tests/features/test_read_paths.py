"""The fast read paths never serve a replaced generation: remembered counts, parsed
catalog rows and property indexes must all give the answers a cold read gives."""

from __future__ import annotations

from pathlib import Path

import orjson
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.domain.query import FeatureQuery
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

ITEMS = "/collections/pts/items"


def _write(path: Path, categories: list[str], label: str) -> Path:
    features = [
        {
            "type": "Feature",
            "id": i + 1,
            "geometry": {"type": "Point", "coordinates": [55.4 + i * 0.001, 25.3]},
            "properties": {"category": c, "rank": i, "label": label},
        }
        for i, c in enumerate(categories)
    ]
    path.write_bytes(orjson.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _publish(settings: Settings, path: Path) -> None:
    """As another worker (or the CLI) would: through a store of its own."""
    store = open_store(settings)
    try:
        import_file(store, path, IngestOptions(collection_id="pts", title="Points"))
    finally:
        store.close()


def test_a_replace_is_answered_at_once(empty_settings: Settings, tmp_path: Path) -> None:
    _publish(empty_settings, _write(tmp_path / "a.geojson", ["a", "a", "b"], "first"))
    with TestClient(create_app(empty_settings)) as client:
        box = {"bbox": "55.39,25.29,55.41,25.31"}
        first = client.get(ITEMS, params={"category": "a", **box}).json()
        assert first["numberMatched"] == 2
        assert client.get(ITEMS, params={"category": "a", **box}).json()["numberMatched"] == 2
        assert client.get(f"{ITEMS}/1").json()["properties"]["label"] == "first"

        _publish(empty_settings, _write(tmp_path / "b.geojson", ["a", "a", "a", "b"], "second"))

        again = client.get(ITEMS, params={"category": "a", **box}).json()
        assert again["numberMatched"] == 3
        assert [f["properties"]["label"] for f in again["features"]] == ["second"] * 3
        assert client.get(f"{ITEMS}/1").json()["properties"]["label"] == "second"
        assert client.get(f"{ITEMS}/4").status_code == 200


def test_counts_follow_each_filter(empty_settings: Settings, tmp_path: Path) -> None:
    categories = ["a", "b", "c", "a", "b", "a"]
    _publish(empty_settings, _write(tmp_path / "a.geojson", categories, "only"))
    queries = [
        *({"category": value, "limit": 1} for value in "abcd"),
        {"category": "d", "offset": 2},
        {"category": "a", "offset": 2, "limit": 2},
        {"rank": 3},
    ]
    with TestClient(create_app(empty_settings)) as client:
        cold = []
        for params in queries:
            body = client.get(ITEMS, params=params).json()
            del body["timeStamp"]
            cold.append(body)
        # the second round is answered from remembered counts (and knows "d" matches nothing)
        for params, first in zip(queries, cold, strict=True):
            body = client.get(ITEMS, params=params).json()
            del body["timeStamp"]
            assert body == first, params
    for params, body in zip(queries, cold, strict=True):
        value = params.get("category")
        assert body["numberMatched"] == (categories.count(value) if value else 1)
    assert [f["id"] for f in cold[-1]["features"]] == [4]
    assert cold[3]["features"] == [] and "next" not in {link["rel"] for link in cold[3]["links"]}
    assert "prev" in {link["rel"] for link in cold[4]["links"]}


def test_a_deleted_collection_is_gone_at_once(empty_settings: Settings, tmp_path: Path) -> None:
    _publish(empty_settings, _write(tmp_path / "a.geojson", ["a"], "only"))
    with TestClient(create_app(empty_settings)) as client:
        assert client.get(f"{ITEMS}/1").status_code == 200
        store = open_store(empty_settings)
        try:
            store.delete_collection(collection_id="pts")
        finally:
            store.close()
        assert client.get(f"{ITEMS}/1").status_code == 404
        assert client.get(ITEMS, params={"category": "a"}).status_code == 404


def test_an_info_resolved_before_a_replace_reads_the_new_generation(
    empty_settings: Settings, tmp_path: Path
) -> None:
    """An edit answers with the feature it wrote, using the info it resolved before."""
    _publish(empty_settings, _write(tmp_path / "a.geojson", ["a", "b"], "first"))
    store = open_store(empty_settings)
    try:
        info, _policy = store.resolve("pts")
        assert store.get_feature(collection=info, fid=1).properties["label"] == "first"
        _publish(empty_settings, _write(tmp_path / "b.geojson", ["a", "a", "a"], "second"))
        assert store.get_feature(collection=info, fid=3).properties["label"] == "second"
        page = store.query_features(collection=info, query=FeatureQuery(equals={"category": "a"}))
        assert page.number_matched == 3
        assert {f.properties["label"] for f in page.features} == {"second"}
    finally:
        store.close()

"""Whole-layer downloads read by columns (GDAL's Arrow reader, PostGIS batch aggregates) and
written from columns give exactly the bytes of the row-by-row path, on both stores."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gis_service.domain.query import FeatureQuery
from gis_service.exports import text
from gis_service.exports.selection import Export
from gis_service.ingest import IngestOptions, import_file
from gis_service.store import columnar
from gis_service.store.base import Store
from gis_service.store.columnar import ColumnarBatch
from gis_service.store.geopackage import whole_layer as gpkg_columns
from gis_service.store.postgis import stream as pg_stream

STAMP = re.compile(rb'"timeStamp":"[^"]*"')

TRICKY_STRINGS = [
    'a "quoted" word',
    "back\\slash",
    "line\nbreak\ttab\r",
    "\x01\x1f control",
    "مسجد القاسمية",
    "",
    None,
    "é/<>&\u2028\x7f",
    "plain",
    "\x02",
    "a\x01b",
]


def _tricky_layer(path: Path, count: int) -> Path:
    """Every value kind at its edges; points, a feature without geometry, a polygon."""
    features = []
    numbers = [0.1, 1e-7, 1e20, -0.0, 5.0, 123456789.123456789, None, 25.595580000000002]
    for i in range(1, count + 1):
        geometry: dict | None = {"type": "Point", "coordinates": [55 + i / 7, 25 - i / 3]}
        if i == 5:
            geometry = None
        if i == 7:
            geometry = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
        properties = {
            "label": TRICKY_STRINGS[i % len(TRICKY_STRINGS)],
            "count": [None, -3, 2**53 + 1, 0][i % 4],
            "ratio": numbers[i % len(numbers)],
            "flag": [True, False, None][i % 3],
            "day": [None, "1999-12-31", "2024-02-29"][i % 3],
        }
        features.append(
            {"type": "Feature", "id": i, "geometry": geometry, "properties": properties}
        )
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _download(
    store: Store, collection_id: str, monkeypatch: pytest.MonkeyPatch, by_columns: bool, **kw
) -> tuple[bytes, int]:
    """The GeoJSON download's bytes (time stamp blanked) and how many batches were columnar."""
    with monkeypatch.context() as patch:
        if not by_columns:
            for module in (gpkg_columns, pg_stream):
                patch.setattr(module, "columnar", lambda info, query: False)
        info = store.get_collection(collection_id)
        with store.open_stream(
            collection=info, query=FeatureQuery(), limit=kw.pop("limit", None)
        ) as stream:
            batches = list(stream)
            export = Export.of(stream.info, **kw)
            body = b"".join(text.geojson(batches, export))
    columnar_batches = sum(isinstance(b, ColumnarBatch) for b in batches)
    return STAMP.sub(b'"timeStamp":""', body), columnar_batches


@pytest.mark.parametrize("layer", ["facilities", "districts", "coverage", "countries", "places"])
def test_demo_layers_by_columns_equal_by_rows(client, layer, monkeypatch):
    store = client.app.state.store
    fast, used = _download(store, layer, monkeypatch, by_columns=True)
    slow, unused = _download(store, layer, monkeypatch, by_columns=False)
    # Layers with date-times are read by rows (their text is made in Python).
    by_columns = columnar.columnar(store.get_collection(layer), FeatureQuery())
    assert (used > 0) == by_columns and unused == 0
    assert by_columns or layer in ("coverage", "places")
    assert fast == slow
    assert json.loads(fast)["numberReturned"] == len(json.loads(slow)["features"])


def test_tricky_values_by_columns_equal_by_rows(empty_store, tmp_path, monkeypatch):
    source = _tricky_layer(tmp_path / "tricky.geojson", 40)
    import_file(empty_store, source, IngestOptions(collection_id="tricky"))
    fast, used = _download(empty_store, "tricky", monkeypatch, by_columns=True)
    slow, _ = _download(empty_store, "tricky", monkeypatch, by_columns=False)
    assert used == 1
    assert fast == slow
    features = json.loads(fast)["features"]
    assert [f["properties"]["label"] for f in features[:9]] == [
        TRICKY_STRINGS[i % len(TRICKY_STRINGS)] for i in range(1, 10)
    ]
    assert "مسجد القاسمية".encode() in fast  # UTF-8 as is, not escaped


@pytest.mark.parametrize(
    "shape",
    [
        {"names": ["ratio", "label"]},
        {"names": []},
        {"geometry": False},
        {"limit": 3},
    ],
)
def test_shaped_downloads_by_columns_equal_by_rows(empty_store, tmp_path, monkeypatch, shape):
    source = _tricky_layer(tmp_path / "points.geojson", 30)
    import_file(empty_store, source, IngestOptions(collection_id="shaped"))
    fast, used = _download(empty_store, "shaped", monkeypatch, True, **dict(shape))
    slow, _ = _download(empty_store, "shaped", monkeypatch, False, **dict(shape))
    assert used == 1
    assert fast == slow


def test_points_only_batches_are_written_from_columns(client, monkeypatch):
    """The fast writer is really used: a points layer's batch never reaches orjson's dicts."""
    from gis_service.exports import geojson_columns

    written = []
    real = geojson_columns.features

    def spy(*args, **kwargs):
        written.append(body := real(*args, **kwargs))
        return body

    monkeypatch.setattr(geojson_columns, "features", spy)
    _download(client.app.state.store, "facilities", monkeypatch, by_columns=True)
    assert written and all(body is not None for body in written)


def test_filtered_or_sorted_selections_are_read_by_rows(client):
    info = client.app.state.store.get_collection("facilities")
    assert columnar.columnar(info, FeatureQuery())
    assert not columnar.columnar(info, FeatureQuery(equals={"category": "hospital"}))


def test_many_small_batches_by_columns_equal_by_rows(empty_store, tmp_path, monkeypatch):
    """Batch edges (PostGIS groups ids by `fid / rows`, rows within a group in any order)
    and a limit that ends inside a batch, on the path a whole layer takes."""
    from gis_service.store.postgis import whole_layer as pg_columns

    for module in (gpkg_columns, pg_columns):
        monkeypatch.setattr(module, "BATCH_ROWS", 7)
    monkeypatch.setattr(pg_columns, "INDEXED_LIMIT", 5)
    source = _tricky_layer(tmp_path / "many.geojson", 40)
    import_file(empty_store, source, IngestOptions(collection_id="many"))
    for limit in (None, 17):
        fast, used = _download(empty_store, "many", monkeypatch, True, limit=limit)
        slow, _ = _download(empty_store, "many", monkeypatch, False, limit=limit)
        assert used >= 3
        assert fast == slow
        ids = [f["id"] for f in json.loads(fast)["features"]]
        assert ids == list(range(1, (limit or 40) + 1))


def test_file_downloads_get_the_same_arrow_batches(empty_store, tmp_path, monkeypatch):
    """GDAL and Parquet writers are fed the same typed Arrow columns by either path."""
    import pyarrow as pa

    from gis_service.exports.arrow import arrow_layout, record_batch

    source = _tricky_layer(tmp_path / "typed.geojson", 30)
    import_file(empty_store, source, IngestOptions(collection_id="typed"))
    tables = []
    for by_columns in (True, False):
        with monkeypatch.context() as patch:
            if not by_columns:
                for module in (gpkg_columns, pg_stream):
                    patch.setattr(module, "columnar", lambda info, query: False)
            info = empty_store.get_collection("typed")
            with empty_store.open_stream(collection=info, query=FeatureQuery()) as stream:
                export = Export.of(stream.info)
                layout = arrow_layout(export, id_name="fid", geometry_name="geometry")
                batches = list(stream)
                assert any(isinstance(b, ColumnarBatch) for b in batches) == by_columns
                tables.append(
                    pa.Table.from_batches([record_batch(b, export, layout) for b in batches])
                )
    assert tables[0].num_rows == 30
    assert tables[0].equals(tables[1])


def test_geopackage_replaced_while_opening_is_read_by_rows(client):
    """GDAL opens the file by name: if it is not the file the store opened, rows are read."""
    from gis_service.store.geopackage.query import read_metadata
    from gis_service.store.geopackage.store import GeoPackageStore, open_read_only

    store = client.app.state.store
    if not isinstance(store, GeoPackageStore):
        pytest.skip("GeoPackage files only")
    path = store.path("facilities")
    conn = open_read_only(path)
    try:
        opened = read_metadata(conn, (0, 0))
    finally:
        conn.close()
    same = gpkg_columns.file_id(path)
    stream = gpkg_columns.open_stream(path, same, opened, FeatureQuery(), None)
    assert stream is not None
    stream.close()
    assert gpkg_columns.open_stream(path, (0, 0), opened, FeatureQuery(), None) is None
    missing = path.with_name("missing.gpkg")
    assert gpkg_columns.open_stream(missing, same, opened, FeatureQuery(), None) is None

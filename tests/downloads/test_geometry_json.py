"""The one GeoJSON geometry writer: points by orjson (fast path or not), the rest by GEOS."""

from __future__ import annotations

import json
import threading

import numpy as np
import orjson
import pytest
import shapely
from shapely.geometry import Point, Polygon

from gis_service.geojson import geometry as geometry_json
from gis_service.store.streaming import ExportBatch, Prefetch


def _texts(values: list[geometry_json.GeometryValue]) -> list[str]:
    return [orjson.dumps(v).decode() for v in values]


def test_plain_points_take_the_fast_path_and_write_shortest_doubles() -> None:
    # GEOS writes 25.59558 as 25.595580000000002; orjson the shortest round-trip form
    points = [Point(56.111605, 25.59558), Point(-0.0, 1e-7), Point(180.0, -90.0)]
    wkbs = [p.wkb for p in points]
    assert geometry_json._plain_points(wkbs) is not None
    assert _texts(geometry_json.from_wkbs(wkbs)) == [
        '{"type":"Point","coordinates":[56.111605,25.59558]}',
        '{"type":"Point","coordinates":[-0.0,1e-7]}',
        '{"type":"Point","coordinates":[180.0,-90.0]}',
    ]


def test_fast_and_general_paths_write_the_same_bytes() -> None:
    rng = np.random.default_rng(5)
    xy = np.round(rng.uniform(-180, 180, (2000, 2)), rng.integers(0, 12))
    geoms = shapely.points(xy)
    wkbs = shapely.to_wkb(geoms).tolist()
    fast = geometry_json.from_wkbs(wkbs)
    general = geometry_json.from_geometries(geoms)
    assert _texts(fast) == _texts(general)
    assert [json.loads(t)["coordinates"] for t in _texts(fast)] == xy.tolist()


def test_mixed_batches_fall_back_and_keep_each_kind() -> None:
    square = Polygon([(0, 0), (1, 0), (1, 1), (0, 0)])
    geoms = [Point(1.5, 2.25), None, square, Point(1, 2, 3), Point(), Point(7, 8)]
    wkbs = [None if g is None else g.wkb for g in geoms]
    assert geometry_json._plain_points(wkbs) is None
    texts = _texts(geometry_json.from_wkbs(wkbs))
    assert texts[0] == '{"type":"Point","coordinates":[1.5,2.25]}'
    assert texts[1] == "null"
    assert texts[2] == shapely.to_geojson(square)
    assert texts[3] == '{"type":"Point","coordinates":[1.0,2.0,3.0]}'
    assert json.loads(texts[4]) == {"type": "Point", "coordinates": []}
    assert texts[5] == '{"type":"Point","coordinates":[7.0,8.0]}'


@pytest.mark.parametrize(
    "wkb",
    [
        Point(1, 2).wkb[:1] + b"\x02" + Point(1, 2).wkb[2:],  # not a point, same length
        shapely.to_wkb(Point(1, 2), byte_order=0),  # big-endian
        shapely.to_wkb(Point(), output_dimension=2),  # empty: NaN coordinates
    ],
)
@pytest.mark.parametrize("before", [1, 20])  # a few points are unpacked one by one, more by numpy
def test_fast_path_refuses_what_it_cannot_read(wkb: bytes, before: int) -> None:
    assert geometry_json._plain_points([Point(0, 0).wkb] * before + [wkb]) is None


@pytest.mark.parametrize("n", [1, 3, 8, 9, 50])
def test_few_and_many_points_write_the_same_bytes_as_geos(n: int) -> None:
    xy = np.round(np.random.default_rng(n).uniform(-180, 180, (n, 2)), 7)
    geoms = shapely.points(xy)
    fast = geometry_json.from_wkbs(shapely.to_wkb(geoms).tolist())
    assert _texts(fast) == _texts(geometry_json.from_geometries(geoms))
    assert [json.loads(t)["coordinates"] for t in _texts(fast)] == xy.tolist()


def _batch(n: int) -> ExportBatch:
    return ExportBatch(fids=[n], wkbs=[None], columns={})


def test_prefetch_yields_every_batch_in_order_then_stops() -> None:
    reader = Prefetch(iter([_batch(i) for i in range(5)]))
    assert [b.fids[0] for b in reader] == list(range(5))
    assert list(reader) == []
    reader.close()


def test_prefetch_hands_the_readers_error_to_the_consumer() -> None:
    def failing():
        yield _batch(1)
        raise RuntimeError("connection lost")

    reader = Prefetch(failing())
    assert next(reader).fids == [1]
    with pytest.raises(RuntimeError, match="connection lost"):
        next(reader)
    reader.close()


def test_prefetch_close_stops_the_thread_and_closes_the_batches() -> None:
    closed = threading.Event()

    def endless():
        try:
            n = 0
            while True:
                n += 1
                yield _batch(n)
        finally:
            closed.set()

    reader = Prefetch(endless())
    assert next(reader).fids == [1]
    reader.close()
    assert closed.is_set()
    assert reader._thread is not None and not reader._thread.is_alive()
    assert list(reader) == []

"""The in-process MVT encoder (gis_service.tiles.mvt) read back by mapbox-vector-tile."""

from __future__ import annotations

import math

import mapbox_vector_tile
import numpy as np
import shapely

from gis_service.tiles import mvt

LONG = "شارع " * 40  # a string over 126 bytes: a two-byte length


def test_property_values_of_every_kind_decode_as_written():
    """Strings (Arabic, long), ints (negative, huge), floats, bools and None, in columns
    of one type and of mixed types: each feature decodes with exactly its own values."""
    n = 300
    rng = np.random.default_rng(3)
    columns = {
        "name": [f"مدرسة {i % 97}" if i % 11 else None for i in range(n)],
        "long": [LONG + str(i % 3) for i in range(n)],
        "count": [int(v) for v in rng.integers(-(2**40), 2**40, n)],
        "small": [i % 5 for i in range(n)],
        "ratio": [float(v) for v in rng.random(n)],
        "open": [bool(i % 2) for i in range(n)],
        "mixed": [[1, 1.0, True, "1", None][i % 5] for i in range(n)],
    }
    points = shapely.points(rng.integers(0, 4096, (n, 2)).astype(float))
    body = mvt.layer("facilities", list(range(1, n + 1)), points, columns, 4096)
    decoded = mapbox_vector_tile.decode(body, default_options={"y_coord_down": True})
    features = {f["id"]: f for f in decoded["facilities"]["features"]}
    assert sorted(features) == list(range(1, n + 1))
    for i in range(n):
        props = features[i + 1]["properties"]
        expected = {k: v[i] for k, v in columns.items() if v[i] is not None}
        assert props.keys() == expected.keys()
        for key, value in expected.items():
            assert props[key] == value and type(props[key]) is type(value), (key, i)
        x, y = shapely.get_coordinates(points[i])[0]
        assert features[i + 1]["geometry"]["coordinates"] == [int(x), int(y)]


def test_values_are_stored_once_per_layer():
    """A value repeated in rows and across properties is one entry of the values table."""
    n = 500
    columns = {"a": ["x"] * n, "b": ["x"] * n, "c": [7] * n, "d": [7.0] * n}
    points = shapely.points(np.full((n, 2), 100.0))
    body = mvt.layer("l", list(range(n)), points, columns, 4096)
    assert body.count(b"\x0a\x01x") == 1  # the string Value, once
    assert body.count(b"\x22\x02\x20\x07") == 1  # the int Value 7, once
    assert body.count(b"\x19" + np.float64(7.0).tobytes()) == 1  # the double, apart from it


def test_float_columns_with_and_without_nan():
    """Floats are encoded in bulk unless a NaN is among them (then value by value); both
    read back as written, a NaN as a NaN, a repeated float stored once."""
    n = 40
    columns = {
        "plain": [0.5 * (i % 4) for i in range(n)],
        "holes": [float("nan") if i % 3 == 0 else -1.25 for i in range(n)],
    }
    points = shapely.points(np.full((n, 2), 10.0))
    body = mvt.layer("l", list(range(n)), points, columns, 4096)
    decoded = mapbox_vector_tile.decode(body)["l"]["features"]
    for f in decoded:
        i = f["id"]
        assert f["properties"]["plain"] == 0.5 * (i % 4)
        hole = f["properties"]["holes"]
        assert math.isnan(hole) if i % 3 == 0 else hole == -1.25
    assert body.count(b"\x19" + np.float64(1.5).tobytes()) == 1


def test_the_encoder_benchmark_layers_decode_alike():
    """bench/mvt_encoders.py's two layers: ours and mapbox-vector-tile's encoding decode to
    the same features (what its side-by-side timing relies on)."""
    from bench import mvt_encoders

    rng = np.random.default_rng(1)
    for geoms, columns in (mvt_encoders.polygons(rng), mvt_encoders.points(rng)):
        ours = mvt_encoders.ours(geoms, columns)
        assert mvt_encoders.same_features(ours, mvt_encoders.theirs(geoms, columns))

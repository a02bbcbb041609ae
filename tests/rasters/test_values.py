"""Point values: `gis_service.rasters.sample` against rasterio's own reads of the same
cells (`DatasetReader.sample`), then the `raster-values` process on both stores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import orjson
import pytest
import rasterio
from pyproj import Transformer

from gis_service.rasters.sample import as_json, values_at

from .cogs import signal_cog
from .tiffs import write_signal_tif


@pytest.fixture(scope="module")
def cog(tmp_path_factory) -> Path:
    return signal_cog(tmp_path_factory.mktemp("valuecogs"))


def direct(ds, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """rasterio's sample per point, nodata and outside as NaN."""
    out = np.full((len(x), ds.count), np.nan)
    for i, (value, px, py) in enumerate(
        zip(ds.sample(zip(x, y, strict=True), masked=True), x, y, strict=True)
    ):
        row, col = ds.index(px, py)
        if 0 <= row < ds.height and 0 <= col < ds.width:
            out[i] = np.ma.filled(value.astype("float64"), np.nan)
    return out


def random_points(ds, n: int, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Points over the raster and a margin around it (some outside, some on nodata)."""
    rng = np.random.default_rng(seed)
    left, bottom, right, top = ds.bounds
    x = rng.uniform(left - 500, right + 500, n)
    y = rng.uniform(bottom - 500, top + 500, n)
    return x, y


def test_values_equal_rasterio_reads_in_the_raster_crs(cog):
    with rasterio.open(cog) as ds:
        x, y = random_points(ds, 3000)
        got = values_at(ds, x, y, "EPSG:32640")
        want = direct(ds, x, y)
    assert got.shape == (3000, 2)
    assert np.isnan(got[:, 0]).any() and (~np.isnan(got[:, 0])).any()
    assert np.array_equal(np.isnan(got), np.isnan(want))
    assert np.array_equal(got[~np.isnan(got)], want[~np.isnan(want)])


def test_points_in_crs84_are_projected_first(cog):
    with rasterio.open(cog) as ds:
        x, y = random_points(ds, 500, seed=3)
        lon, lat = Transformer.from_crs(ds.crs, "OGC:CRS84", always_xy=True).transform(x, y)
        got = values_at(ds, lon, lat)
        want = direct(ds, x, y)
        # a point within a millimetre of a cell edge may round to either cell
        cols, rows = ~ds.transform * (x, y)
        clear = (np.abs(cols - np.round(cols)) > 1e-4) & (np.abs(rows - np.round(rows)) > 1e-4)
    assert clear.sum() > 490
    assert np.array_equal(got[clear], want[clear], equal_nan=True)


def test_outside_nodata_and_bad_coordinates_are_null(cog):
    with rasterio.open(cog) as ds:
        left, top = ds.bounds.left, ds.bounds.top
        x = np.array([left + 15, left + 3015 + 15, left - 1, np.nan, 1e300, np.inf])
        y = np.array([top - 15, top - 15, top - 15, top, 0.0, 0.0])
        got = values_at(ds, x, y, "EPSG:32640")
        quality_at_origin = ds.read(2, window=((0, 1), (0, 1)))[0, 0]
    assert np.isnan(got[0, 0]) and got[0, 1] == quality_at_origin  # band 1 nodata, 2 not
    assert not np.isnan(got[1]).any()
    assert np.isnan(got[2:]).all()
    assert as_json(got[:3], integer=False)[2] == [None, None]
    assert as_json(np.array([[3.0, np.nan]]), integer=True) == [[3, None]]


def test_chosen_bands_and_the_budget_check(cog):
    calls = []
    with rasterio.open(cog) as ds:
        x, y = random_points(ds, 200, seed=11)
        both = values_at(ds, x, y, "EPSG:32640")
        second = values_at(ds, x, y, "EPSG:32640", bands=[2], check=lambda: calls.append(1))
    assert np.array_equal(second[:, 0], both[:, 1], equal_nan=True)
    assert calls  # called once per block read


# --- the raster-values process, both stores ---------------------------------------------


def _upload_geojson(world, cid: str, features: list[dict], **fields: str) -> None:
    body = orjson.dumps({"type": "FeatureCollection", "features": features})
    res = world.client.post(
        "/collections",
        headers=world.keys["editor"],
        data={"id": cid, **fields},
        files={"file": (f"{cid}.geojson", body)},
    )
    assert res.status_code == 201, res.text


@pytest.fixture(scope="module")
def published(world, tmp_path_factory):
    """Raster `sig` (public), `sig-private`, and point collection `sites` (public)."""
    tif = write_signal_tif(tmp_path_factory.mktemp("values") / "signal.tif")
    assert world.upload("sig", tif, visibility="public").status_code == 201
    assert world.upload("sig-private", tif).status_code == 201
    with rasterio.open(tif) as ds:
        x, y = random_points(ds, 400, seed=5)
        lon, lat = Transformer.from_crs(ds.crs, "OGC:CRS84", always_xy=True).transform(x, y)
        want = direct(ds, x, y)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [float(a), float(b)]},
            "properties": {"n": i, "kind": "even" if i % 2 == 0 else "odd"},
        }
        for i, (a, b) in enumerate(zip(lon, lat, strict=True))
    ]
    _upload_geojson(world, "sites", features, visibility="public")
    return tif, features, want


def execute(world, inputs: dict, headers: dict | None = None):
    return world.client.post(
        "/processes/raster-values/execution", json={"inputs": inputs}, headers=headers or {}
    )


def _as_array(features: list[dict], names: list[str]) -> np.ndarray:
    return np.array(
        [
            [np.nan if f["properties"][n] is None else f["properties"][n] for n in names]
            for f in features
        ]
    )


def test_process_values_equal_direct_reads(world, published):
    _tif, _features, want = published
    res = execute(world, {"raster": {"collection": "sig"}, "points": {"collection": "sites"}})
    assert res.status_code == 200, res.text
    body = res.json()
    assert body["bands"] == ["signal", "quality"] and body["numberReturned"] == 400
    got = sorted(body["features"], key=lambda f: f["properties"]["n"])
    values = _as_array(got, ["signal", "quality"])
    assert np.isnan(values[:, 0]).any() and (~np.isnan(values[:, 0])).any()  # null and not
    # a point within a millimetre of a cell edge may round to either cell after projection
    assert (np.isclose(values, want, equal_nan=True).all(axis=1)).mean() > 0.99
    assert all(f["properties"]["feature_id"] >= 1 for f in got)


def test_inline_points_chosen_bands_filter_and_save(world, published):
    _tif, features, want = published
    inline = {"type": "FeatureCollection", "features": features[:50]}
    res = execute(world, {"raster": {"collection": "sig"}, "points": inline, "bands": ["quality"]})
    assert res.status_code == 200, res.text
    got = res.json()["features"]
    assert set(got[0]["properties"]) == {"n", "kind", "feature_id", "quality"}
    assert np.allclose(_as_array(got, ["quality"])[:, 0], want[:50, 1], equal_nan=True)
    filtered = execute(
        world,
        {
            "raster": {"collection": "sig"},
            "points": {"collection": "sites", "filter": "kind = 'odd'"},
        },
    )
    assert {f["properties"]["kind"] for f in filtered.json()["features"]} == {"odd"}
    saved = world.client.post(
        "/processes/raster-values/execution",
        json={
            "inputs": {
                "raster": {"collection": "sig", "version": 1},
                "points": inline,
                "save_as": "site-signal",
            }
        },
        headers=world.keys["editor"],
    )
    assert saved.status_code == 201, saved.text
    items = world.client.get(
        "/collections/site-signal/items?limit=100", headers=world.keys["editor"]
    )
    assert items.json()["numberReturned"] == 50
    assert "signal" in items.json()["features"][0]["properties"]


@pytest.mark.parametrize(
    "inputs,status,parameter",
    [
        (
            {"raster": {"collection": "sig"}, "points": {"collection": "sites"}, "bands": ["x"]},
            400,
            "bands",
        ),
        ({"raster": {"collection": "sites"}, "points": {"collection": "sites"}}, 400, "raster"),
        ({"raster": {"collection": "sig"}, "points": {"collection": "sig"}}, 400, "points"),
        (
            {"raster": {"collection": "sig", "version": 0}, "points": {"collection": "sites"}},
            400,
            "raster.version",
        ),
        (
            {"raster": {"collection": "sig", "band": 1}, "points": {"collection": "sites"}},
            400,
            "raster",
        ),
        ({"raster": "sig", "points": {"collection": "sites"}}, 400, "raster"),
        (
            {"raster": {"collection": "sig", "version": 9}, "points": {"collection": "sites"}},
            404,
            None,
        ),
        ({"raster": {"collection": "sig-private"}, "points": {"collection": "sites"}}, 404, None),
        ({"raster": {"collection": "nope"}, "points": {"collection": "sites"}}, 404, None),
    ],
)
def test_bad_inputs_are_refused_before_running(world, published, inputs, status, parameter):
    res = execute(world, inputs, world.keys["other"])
    assert res.status_code == status, res.text
    if parameter is not None:
        assert res.json()["parameter"] == parameter


def test_a_private_raster_is_read_by_its_entity_only(world, published):
    inputs = {
        "raster": {"collection": "sig-private"},
        "points": {"type": "Point", "coordinates": [55.6, 25.35]},
    }
    assert execute(world, inputs, world.keys["viewer"]).status_code == 200
    hidden = execute(world, inputs, world.keys["other"])
    absent = execute(world, {**inputs, "raster": {"collection": "no-such"}}, world.keys["other"])
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json()["detail"].replace("sig-private", "X") == absent.json()["detail"].replace(
        "no-such", "X"
    )

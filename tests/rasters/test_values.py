"""Point values: `gis_service.rasters.sample` against rasterio's own reads of the same
cells (`DatasetReader.sample`), then the `raster-values` process on both stores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from gis_service.rasters.sample import as_json, values_at

from .cogs import signal_cog


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

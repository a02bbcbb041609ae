"""Zonal statistics: `gis_service.rasters.zonal` against a direct NumPy computation on the
test raster (cell-aligned boxes exactly; boxes cutting cells with the overlap fraction of
each edge cell computed by hand), then the `zonal-stats` process on both stores."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from pyproj import Transformer

from gis_service.rasters.zonal import zonal_stats

from .cogs import signal_cog
from .tiffs import CELL, NODATA, ORIGIN, signal_values

THRESHOLD = -90.0


@pytest.fixture(scope="module")
def cog(tmp_path_factory) -> Path:
    return signal_cog(tmp_path_factory.mktemp("zonalcogs"))


def box_of_cells(c0: float, r0: float, c1: float, r1: float) -> shapely.Polygon:
    """A box in UTM from fractional cell coordinates (column, row; rows grow south)."""
    return shapely.box(
        ORIGIN[0] + c0 * CELL, ORIGIN[1] - r1 * CELL, ORIGIN[0] + c1 * CELL, ORIGIN[1] - r0 * CELL
    )


def expected(c0: float, r0: float, c1: float, r1: float, band: int = 0) -> dict[str, float]:
    """The statistics by hand: each cell weighted by the part of it the box covers."""
    values = signal_values()[band].astype("float64")
    rows, cols = np.mgrid[0 : values.shape[0], 0 : values.shape[1]]
    wx = np.clip(np.minimum(cols + 1, c1) - np.maximum(cols, c0), 0, None)
    wy = np.clip(np.minimum(rows + 1, r1) - np.maximum(rows, r0), 0, None)
    weight = wx * wy
    valid = (weight > 0) & (values != NODATA)
    w, v = weight[valid], values[valid]
    if not len(v):
        return {"count": 0.0}
    return {
        "mean": float(np.sum(w * v) / np.sum(w)),
        "min": float(v.min()),
        "max": float(v.max()),
        "count": float(np.sum(w)),
        "share_above": float(np.sum(w[v >= THRESHOLD]) / np.sum(w)),
    }


def run(cog: Path, boxes: list[tuple[float, ...]], crs: str = "EPSG:32640", **kwargs):
    geoms = np.array([box_of_cells(*b) for b in boxes])
    if crs != "EPSG:32640":
        to = Transformer.from_crs("EPSG:32640", crs, always_xy=True)
        geoms = shapely.transform(geoms, lambda xy: np.column_stack(to.transform(*xy.T)))
    with rasterio.open(cog) as ds:
        return zonal_stats(ds, geoms, crs=crs, **kwargs)


ALIGNED = [(100, 50, 150, 80), (0, 0, 600, 400), (300, 10, 301, 11), (250, 100, 400, 390)]


def test_cell_aligned_polygons_equal_numpy_exactly(cog):
    got = run(cog, ALIGNED, threshold=THRESHOLD)
    for i, b in enumerate(ALIGNED):
        want = expected(*b)
        assert got["count"][i] == want["count"]  # whole cells: an exact count
        assert got["min"][i] == pytest.approx(want["min"], abs=1e-4)  # float32 values
        assert got["max"][i] == pytest.approx(want["max"], abs=1e-4)
        assert got["mean"][i] == pytest.approx(want["mean"], rel=1e-9, abs=1e-6)
        assert got["share_above"][i] == pytest.approx(want["share_above"], abs=1e-12)
        assert got["share_below"][i] == pytest.approx(1 - want["share_above"], abs=1e-12)
    assert 0 < got["share_above"][3] < 1  # the threshold cuts through that district


CUTTING = [(100.5, 50.25, 150.75, 80.5), (95.3, 70.1, 110.6, 90.9), (3.5, 3.5, 7.5, 7.5)]


def test_edge_cells_are_weighted_by_the_part_covered(cog):
    got = run(cog, CUTTING, threshold=THRESHOLD)
    for i, b in enumerate(CUTTING[:2]):
        want = expected(*b)
        assert got["count"][i] == pytest.approx(want["count"], rel=1e-9)
        assert got["mean"][i] == pytest.approx(want["mean"], rel=1e-7)
        assert got["min"][i] == pytest.approx(want["min"], abs=1e-4)
        assert got["max"][i] == pytest.approx(want["max"], abs=1e-4)
        assert got["share_above"][i] == pytest.approx(want["share_above"], abs=1e-9)
    # the box over the sea only: no valid cell, so no statistics and a count of 0
    assert (
        got["count"][2] == 0 and np.isnan([got[k][2] for k in ("mean", "min", "share_above")]).all()
    )


def test_polygons_in_crs84_are_projected_to_the_raster(cog):
    got = run(cog, ALIGNED + CUTTING, crs="OGC:CRS84", threshold=THRESHOLD)
    for i, b in enumerate(ALIGNED + CUTTING[:2]):
        want = expected(*b)
        assert got["count"][i] == pytest.approx(want["count"], rel=1e-6)
        assert got["mean"][i] == pytest.approx(want["mean"], rel=1e-6)
        assert got["min"][i] == pytest.approx(want["min"], abs=1e-4)
        assert got["max"][i] == pytest.approx(want["max"], abs=1e-4)


def test_second_band_outside_and_no_threshold(cog):
    got = run(cog, [(10, 10, 20, 20), (-50, -50, -10, -10)], band=2)
    assert set(got) == {"mean", "min", "max", "count"}
    assert got["mean"][0] == pytest.approx(expected(10, 10, 20, 20, band=1)["mean"])
    assert got["count"][1] == 0 and np.isnan(got["mean"][1])
    with rasterio.open(cog) as ds:
        empty = zonal_stats(ds, np.array([], dtype=object))
    assert len(empty["mean"]) == 0

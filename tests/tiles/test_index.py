"""The tile index's answers about crowded matrices, against counting tile by tile."""

from __future__ import annotations

import morecantile
import numpy as np

from gis_service.tiles.grids import grid
from gis_service.tiles.index import build_boxes


def test_features_straddling_a_tile_edge_make_both_tiles_crowded():
    """2,400 thin boxes across a z12 tile's east edge, centres alternating sides: each
    of the two tiles touches all 2,400, so matrix 12 is generalised (and 13 is not)."""
    tms = morecantile.tms.get("WebMercatorQuad")
    b = tms.bounds(morecantile.Tile(2700, 1750, 12))
    width = b.right - b.left
    ys = np.linspace(b.bottom + width * 0.01, b.top - width * 0.01, 2400)
    cx = b.right + np.where(np.arange(2400) % 2 == 0, -1, 1) * width * 0.05
    bounds = np.column_stack([cx - width * 0.1, ys, cx + width * 0.1, ys + width * 0.001])
    index = build_boxes(np.arange(2400), bounds, grid("WebMercatorQuad"))
    assert index.count(12, 1750, 2700) == index.count(12, 1750, 2701) == 2400
    zooms = index.crowded(2000, 22)
    assert zooms == list(range(13))
    deeper = max(index.count(13, r, c) for r in (3500, 3501) for c in (5400, 5401, 5402, 5403))
    assert deeper <= 2000  # so 13 is rightly not listed
    assert index.crowded(2000, 22) is zooms  # computed once per index


def test_overlapping_boxes_crowd_every_matrix_and_few_none():
    bounds = np.array([[55.0, 25.0, 55.1, 25.1]] * 10)
    index = build_boxes(np.arange(10), bounds, grid("WorldCRS84Quad"))
    assert index.crowded(10, 22) == []
    assert index.crowded(5, 22) == list(range(23))  # ten boxes over one place, at any zoom


def test_closed_form_projections_agree_with_morecantile():
    """The grids' own CRS84 <-> world-unit formulas land where morecantile (pyproj) puts
    the same positions: tile corners to 1e-9 degrees, positions in the same tile."""
    rng = np.random.default_rng(5)
    lon, lat = rng.uniform(-180, 180, 2000), rng.uniform(-85, 85, 2000)
    for tms_id in ("WebMercatorQuad", "WorldCRS84Quad"):
        g, tms = grid(tms_id), morecantile.tms.get(tms_id)
        for z, row, col in ((0, 0, 0), (7, 55, 83), (14, 7006, 10723)):
            if col >= g.width0 * 2**z:
                continue
            b = tms.bounds(morecantile.Tile(col, row, z))
            ours = g.tile_bbox_crs84(z, row, col)
            assert np.allclose(ours, (b.left, b.bottom, b.right, b.top), rtol=0, atol=1e-9)
        wx, wy = g.to_world(lon, lat)
        for i in range(0, 2000, 97):
            t = tms.tile(lon[i], lat[i], 12)
            assert (int(wy[i] * 2**12), int(wx[i] * 2**12)) == (t.y, t.x)


def test_degrees_per_unit_never_exceeds_a_unit_in_the_tile():
    """A step of `degrees_per_unit` along either axis, anywhere in the (buffered) tile,
    moves at most one tile unit: simplifying in degrees by it stays within tolerance."""
    for tms_id in ("WebMercatorQuad", "WorldCRS84Quad"):
        g = grid(tms_id)
        for z, row, col in ((2, 1, 2), (6, 27, 42), (10, 437, 670), (14, 1000, 1000)):
            d = g.degrees_per_unit(z, row)
            west, south, east, north = g.tile_bbox_crs84(z, row, col, 64 / 4096)
            lon, lat = np.meshgrid(np.linspace(west, east - d, 9), np.linspace(south, north - d, 9))
            x0, y0 = g.to_world(lon.ravel(), lat.ravel())
            x1, _ = g.to_world(lon.ravel() + d, lat.ravel())
            _, y1 = g.to_world(lon.ravel(), lat.ravel() + d)
            units = 2**z * 4096
            assert np.all(np.abs(x1 - x0) * units <= 1 + 1e-9)
            assert np.all(np.abs(y1 - y0) * units <= 1 + 1e-9)
            assert np.abs(y1 - y0).max() * units > 0.5  # and is not needlessly small

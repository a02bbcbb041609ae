"""Point values: every band's value at each of many points, in one pass over the COG.

Points are projected into the raster's CRS at once (pyproj, vectorised), located on the
grid by the inverse transform, grouped by the COG's internal tile, and each tile touched
is read once (all bands): a million points cost the blocks they fall in, never a window
spanning them all. A point outside the grid, on nodata or on a masked cell has null
values.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pyproj import CRS, Transformer
from rasterio.windows import Window


def values_at(
    ds,
    x: np.ndarray,
    y: np.ndarray,
    crs: str = "OGC:CRS84",
    bands: list[int] | None = None,
    check: Callable[[], None] | None = None,
) -> np.ndarray:
    """A float64 array (points x bands): the value of each band at each (x, y) given in
    `crs` (x east, y north), NaN where there is none. `check` is called between blocks
    (a process's time budget)."""
    bands = bands or list(range(1, ds.count + 1))
    rows, cols = _cells(ds, np.asarray(x, float), np.asarray(y, float), crs)
    out = np.full((len(rows), len(bands)), np.nan)
    inside = np.flatnonzero((rows >= 0) & (rows < ds.height) & (cols >= 0) & (cols < ds.width))
    if not len(inside):
        return out
    block_h, block_w = ds.block_shapes[0]
    r, c = rows[inside], cols[inside]
    block = (r // block_h) * (ds.width // block_w + 1) + c // block_w
    order = np.argsort(block, kind="stable")
    starts = np.flatnonzero(np.r_[True, np.diff(block[order]) != 0])
    for begin, end in zip(starts, np.r_[starts[1:], len(order)], strict=True):
        if check is not None:
            check()
        chosen = order[begin:end]
        top = (r[chosen[0]] // block_h) * block_h
        left = (c[chosen[0]] // block_w) * block_w
        window = Window(left, top, min(block_w, ds.width - left), min(block_h, ds.height - top))
        data = ds.read(bands, window=window, masked=True)
        picked = data[:, r[chosen] - top, c[chosen] - left]
        values = np.ma.filled(picked.astype("float64"), np.nan).T
        out[inside[chosen]] = values
    return out


def _cells(ds, x: np.ndarray, y: np.ndarray, crs: str) -> tuple[np.ndarray, np.ndarray]:
    """Row and column of each point on the grid (-1 where it cannot be placed)."""
    if not CRS.from_user_input(crs).equals(CRS.from_wkt(ds.crs.to_wkt())):
        to_raster = Transformer.from_crs(crs, ds.crs.to_wkt(), always_xy=True)
        x, y = to_raster.transform(x, y, errcheck=False)
    inverse = ~ds.transform
    with np.errstate(invalid="ignore", over="ignore"):
        fc = inverse.a * x + inverse.b * y + inverse.c
        fr = inverse.d * x + inverse.e * y + inverse.f
    ok = np.isfinite(fc) & np.isfinite(fr) & (np.abs(fc) < 2**40) & (np.abs(fr) < 2**40)
    cols = np.where(ok, np.floor(np.where(ok, fc, 0)), -1).astype(np.int64)
    rows = np.where(ok, np.floor(np.where(ok, fr, 0)), -1).astype(np.int64)
    return rows, cols


def as_json(values: np.ndarray, integer: bool) -> list[list[float | int | None]]:
    """Rows of band values as JSON numbers (integers for an integer raster), null for NaN."""
    out: list[list[float | int | None]] = []
    for row in values.tolist():
        if integer:
            out.append([None if v != v else int(v) for v in row])
        else:
            out.append([None if v != v else v for v in row])
    return out

"""Where a raster says "covered": a band at or above a threshold (e.g. signal >= -90 dBm).

For points (facilities) it tells whether the cell under each point is covered and, for
those that are not, the nearest covered cell. The nearest cell comes from a Euclidean
distance transform (SciPy) of the covered mask, read once for the whole raster on a grid
of at most `MAX_CELLS` per side (the COG's overviews answer a decimated read, so a
10,000 x 10,000 raster costs a 2,048-cell read, not the full one); the transform is
sampled in metres along each axis so a raster in degrees is searched isotropically. The
distance reported is then measured on the WGS 84 ellipsoid from the point to that cell's
centre, so only the choice of the cell depends on the grid's resolution (reported).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from pyproj import CRS, Geod, Transformer
from rasterio.enums import Resampling

from .sample import values_at

#: The covered mask is searched on a grid of at most this many cells per side.
MAX_CELLS = 2048
GEOD = Geod(ellps="WGS84")
METRES_PER_DEGREE = 111_319.49


@dataclass(frozen=True)
class Reach:
    """Per point: the band's value there (NaN off the raster or on nodata), whether it is
    covered, and for the others the geodesic distance to the nearest covered cell centre
    (NaN when no cell of the raster is covered); `cell_m` is the searched grid's cell."""

    value: np.ndarray
    covered: np.ndarray
    distance_m: np.ndarray
    cell_m: float


class Coverage:
    """Coverage of one band by a threshold on one open raster: the covered mask and its
    nearest-cell transform are made on first need and kept for every later batch."""

    def __init__(self, ds, band: int, threshold: float) -> None:
        self.ds, self.band, self.threshold = ds, band, threshold
        self.grid = _Grid.of(ds)
        self._nearest: np.ndarray | None = None
        self._any = False

    def at(self, lon: np.ndarray, lat: np.ndarray) -> Reach:
        """Coverage at CRS84 points (`lon`, `lat`)."""
        value = values_at(self.ds, lon, lat, bands=[self.band])[:, 0]
        with np.errstate(invalid="ignore"):
            covered = value >= self.threshold
        distance = np.full(len(value), np.nan)
        missing = np.flatnonzero(~covered)
        if len(missing) and self._transform():
            assert self._nearest is not None
            distance[missing] = self.grid.distances(
                self._nearest, lon[missing], lat[missing], self.ds.crs
            )
        distance[covered] = 0.0
        return Reach(value, covered, distance, self.grid.cell_m)

    def _transform(self) -> bool:
        """Whether any cell is covered (the transform made once, if so)."""
        if self._nearest is None and not self._any:
            from scipy.ndimage import distance_transform_edt

            mask = self.grid.covered(self.ds, self.band, self.threshold)
            self._any = bool(mask.any())
            if self._any:
                sampling = (self.grid.dy_m, self.grid.dx_m)
                self._nearest = distance_transform_edt(
                    ~mask, sampling=sampling, return_distances=False, return_indices=True
                )
        return self._any


@dataclass(frozen=True)
class _Grid:
    """The raster decimated to at most MAX_CELLS per side, with its cell size in metres."""

    height: int
    width: int
    transform: object  # affine.Affine of the decimated grid
    dy_m: float
    dx_m: float

    @property
    def cell_m(self) -> float:
        return max(self.dx_m, self.dy_m)

    @classmethod
    def of(cls, ds) -> _Grid:
        factor = max(1, math.ceil(max(ds.width, ds.height) / MAX_CELLS))
        width, height = math.ceil(ds.width / factor), math.ceil(ds.height / factor)
        transform = ds.transform @ ds.transform.scale(ds.width / width, ds.height / height)
        dx, dy = abs(transform.a), abs(transform.e)
        crs = CRS.from_wkt(ds.crs.to_wkt())
        if crs.is_geographic:
            middle = ds.transform @ (ds.width / 2, ds.height / 2)
            lat = math.radians(
                Transformer.from_crs(crs, 4326, always_xy=True).transform(*middle)[1]
            )
            return cls(
                height,
                width,
                transform,
                dy * METRES_PER_DEGREE,
                dx * METRES_PER_DEGREE * max(math.cos(lat), 1e-6),
            )
        unit = crs.axis_info[0].unit_conversion_factor if crs.axis_info else 1.0
        return cls(height, width, transform, dy * unit, dx * unit)

    def covered(self, ds, band: int, threshold: float) -> np.ndarray:
        data = ds.read(
            band, out_shape=(self.height, self.width), masked=True, resampling=Resampling.nearest
        )
        return np.ma.filled(data.astype("float64") >= threshold, False)

    def distances(self, nearest: np.ndarray, lon: np.ndarray, lat: np.ndarray, crs) -> np.ndarray:
        """Geodesic metres from each point to the covered cell `nearest` names for the
        cell it falls in (a point off the grid: the edge cell nearest to it)."""
        to_raster = Transformer.from_crs(4326, crs.to_wkt(), always_xy=True)
        x, y = (np.asarray(v) for v in to_raster.transform(lon, lat, errcheck=False))
        inverse = ~self.transform
        cols = np.floor(inverse.a * x + inverse.b * y + inverse.c)
        rows = np.floor(inverse.d * x + inverse.e * y + inverse.f)
        cols = np.clip(np.nan_to_num(cols), 0, self.width - 1).astype(np.int64)
        rows = np.clip(np.nan_to_num(rows), 0, self.height - 1).astype(np.int64)
        near_rows, near_cols = nearest[0][rows, cols], nearest[1][rows, cols]
        cx, cy = self.transform @ (near_cols + 0.5, near_rows + 0.5)
        clon, clat = Transformer.from_crs(crs.to_wkt(), 4326, always_xy=True).transform(cx, cy)
        _, _, metres = GEOD.inv(lon, lat, clon, clat)
        return np.asarray(metres, dtype="float64")

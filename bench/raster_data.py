"""A seeded SYNTHETIC signal-strength raster over Sharjah for the raster benchmark.

One float32 band in dBm (-120..-50), EPSG:4326 over the benchmark area (lon 55.3-56.4,
lat 24.9-25.6): a few dozen seeded Gaussian "towers" (separable in lon and lat, so a
10,000 x 10,000 grid is built from outer products, not 10^8 exp calls), a little seeded
noise so the file compresses like real data, and nodata over a "sea" in the north-west
corner given by a formula, so the harness knows where the data is without reading it.
Written as a tiled GeoTIFF, then made a COG by the service's own `to_cog` (rio-cogeo,
the profile every stored COG has); both cached in bench/work/ by size, seed and version.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.generate import AREA

NODATA = -9999.0
LOW, HIGH = -120.0, -50.0  # dBm: the values' range and the tiles' rescale
TOWERS = 24
NOISE_DB = 0.3
VERSION = 1  # bump when the output changes, so cached files are not reused
ROWS_PER_BLOCK = 1000


@dataclass(frozen=True)
class Grid:
    """The raster's grid: `size` x `size` cells over AREA (cells ~11 m x 7.8 m at 10,000)."""

    size: int

    @property
    def dx(self) -> float:
        return (AREA[2] - AREA[0]) / self.size

    @property
    def dy(self) -> float:
        return (AREA[3] - AREA[1]) / self.size

    def centres_lon(self) -> np.ndarray:
        return AREA[0] + (np.arange(self.size) + 0.5) * self.dx

    def centres_lat(self, r0: int, r1: int) -> np.ndarray:
        return AREA[3] - (np.arange(r0, r1) + 0.5) * self.dy

    def cell_of(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) of the cells holding the points; -1 off the grid."""
        col = np.floor((lon - AREA[0]) / self.dx).astype(np.int64)
        row = np.floor((AREA[3] - lat) / self.dy).astype(np.int64)
        off = (col < 0) | (col >= self.size) | (row < 0) | (row >= self.size)
        return np.where(off, -1, row), np.where(off, -1, col)


def is_sea(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """The nodata area: north-west of a line from (55.3, 25.3) to (55.7, 25.6)."""
    return (lat - 25.3) > (lon - 55.3) * 0.75


def towers(seed: int) -> np.ndarray:
    """(lon, lat, sigma_km, amplitude) per tower, most of them over the city."""
    rng = np.random.default_rng([seed, 20])
    lon = np.where(rng.random(TOWERS) < 0.6, rng.uniform(55.35, 55.75, TOWERS), 0.0)
    lon = np.where(lon == 0.0, rng.uniform(AREA[0], AREA[2], TOWERS), lon)
    lat = rng.uniform(AREA[1], AREA[3], TOWERS)
    return np.column_stack(
        [lon, lat, rng.uniform(3.0, 14.0, TOWERS), rng.uniform(0.6, 1.0, TOWERS)]
    )


def block_values(grid: Grid, seed: int, r0: int, r1: int) -> np.ndarray:
    """Rows r0..r1 of the band (float32, NODATA over the sea)."""
    lon = grid.centres_lon()
    lat = grid.centres_lat(r0, r1)
    miss = np.ones((r1 - r0, grid.size))  # product of (1 - g_i): 1 where no tower reaches
    for t_lon, t_lat, sigma, amp in towers(seed):
        ex = np.exp(-(((lon - t_lon) * 111.32 * np.cos(np.radians(t_lat))) ** 2) / (2 * sigma**2))
        ey = np.exp(-(((lat - t_lat) * 110.57) ** 2) / (2 * sigma**2))
        miss *= 1.0 - amp * np.outer(ey, ex)
    values = LOW + (HIGH - LOW) * (1.0 - miss)
    rng = np.random.default_rng([seed, 21, r0])
    values += rng.normal(0.0, NOISE_DB, values.shape)
    values = np.clip(values, LOW, HIGH)
    values[is_sea(lon[None, :], lat[:, None])] = NODATA
    return values.astype("float32")


def paths(work: Path, size: int, seed: int) -> tuple[Path, Path]:
    stem = f"signal-{size}-s{seed}-v{VERSION}"
    return work / f"{stem}.tif", work / f"{stem}-cog.tif"


def write_source(out: Path, grid: Grid, seed: int) -> Path:
    """The plain tiled GeoTIFF, written a block of rows at a time (atomic via rename)."""
    import rasterio
    from rasterio.transform import from_origin
    from rasterio.windows import Window

    tmp = out.with_name(f".{out.name}.{os.getpid()}.partial.tif")
    profile = {
        "driver": "GTiff",
        "width": grid.size,
        "height": grid.size,
        "count": 1,
        "dtype": "float32",
        "crs": "EPSG:4326",
        "transform": from_origin(AREA[0], AREA[3], grid.dx, grid.dy),
        "nodata": NODATA,
        "tiled": True,
        "blockxsize": 512,
        "blockysize": 512,
        "compress": "deflate",
        "predictor": 3,
        "bigtiff": "IF_SAFER",
    }
    with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(tmp, "w", **profile) as dst:
        for r0 in range(0, grid.size, ROWS_PER_BLOCK):
            r1 = min(grid.size, r0 + ROWS_PER_BLOCK)
            dst.write(block_values(grid, seed, r0, r1), 1, window=Window(0, r0, grid.size, r1 - r0))
        dst.set_band_description(1, "signal")
        dst.units = ("dBm",)
    tmp.replace(out)
    return out


def ensure(work: Path, size: int, seed: int) -> tuple[Path, bool]:
    """The COG (generated, or from the cache); whether it was cached."""
    from gis_service.rasters.cog import to_cog

    source, cog = paths(work, size, seed)
    if cog.exists():
        return cog, True
    work.mkdir(parents=True, exist_ok=True)
    if not source.exists():
        write_source(source, Grid(size), seed)
    tmp = cog.with_name(f".{cog.name}.{os.getpid()}.partial.tif")
    to_cog(source, tmp)
    tmp.replace(cog)
    source.unlink()  # the COG holds the same cells; the source is not needed again
    return cog, False

"""COGs for the rendering tests (map tiles, point values, zonal statistics), made the
way ingest makes them (`rasters.cog.to_cog`) from the generated test rasters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

from gis_service.rasters.cog import to_cog

from .tiffs import write_signal_tif


def signal_cog(folder: Path) -> Path:
    """The signal raster (UTM 40N, 600 x 400 x 2 float32, a nodata corner) as a COG."""
    target = folder / "signal-cog.tif"
    to_cog(write_signal_tif(folder / "signal-src.tif"), target)
    return target


def rgb_values(width: int = 300, height: int = 200) -> np.ndarray:
    rows, cols = np.mgrid[0:height, 0:width]
    return np.stack([cols % 256, rows % 256, (rows + cols) % 256]).astype("uint8")


def rgb_cog(folder: Path) -> Path:
    """A three-band byte raster in CRS84 (imagery-like), as a COG."""
    source, target = folder / "rgb-src.tif", folder / "rgb-cog.tif"
    data = rgb_values()
    meta = dict(
        driver="GTiff",
        width=data.shape[2],
        height=data.shape[1],
        count=3,
        dtype="uint8",
        crs="OGC:CRS84",
        transform=from_origin(55.40, 25.40, 0.0005, 0.0005),
    )
    with rasterio.open(source, "w", **meta) as dst:
        dst.write(data)
    to_cog(source, target)
    return target

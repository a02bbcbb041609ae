"""A checked GeoTIFF -> a Cloud-Optimized GeoTIFF with overviews (rio-cogeo).

Tiles of 256 x 256, DEFLATE with the predictor that suits the type, internal overviews
down to a single tile (average for continuous data, nearest for integers, which are
often classes), band names and nodata carried over (units are kept in the collection's
metadata: writing them into a finished COG would break its layout). GDAL's sidecar
files are off (`GDAL_PAM_ENABLED=NO`): nothing but the one COG is ever written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError
from rio_cogeo.cogeo import cog_translate
from rio_cogeo.profiles import cog_profiles

from ..errors import IngestError

BLOCK = 256  # a map tile's size; a 400 x 300 raster gets one overview
GDAL_CONFIG = {"GDAL_PAM_ENABLED": "NO", "GDAL_NUM_THREADS": "2", "GDAL_TIFF_INTERNAL_MASK": "YES"}


def to_cog(source: Path, target: Path) -> None:
    """Write `target` as a COG of `source`; a read error (damaged data) is IngestError."""
    with rasterio.Env(**GDAL_CONFIG), rasterio.open(source, driver="GTiff") as src:
        floating = np.issubdtype(np.dtype(src.dtypes[0]), np.floating)
        profile = cog_profiles.get("deflate").copy()
        profile.update(
            blockxsize=BLOCK, blockysize=BLOCK, predictor=3 if floating else 2, bigtiff="IF_SAFER"
        )
        try:
            cog_translate(
                src,
                target,
                profile,
                overview_resampling="average" if floating else "nearest",
                in_memory=False,
                quiet=True,
                config=GDAL_CONFIG,
                forward_band_tags=True,
            )
        except RasterioError as exc:
            target.unlink(missing_ok=True)
            raise IngestError(f"file: the GeoTIFF's data cannot be read ({exc})") from None

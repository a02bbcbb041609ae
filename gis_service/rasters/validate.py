"""An uploaded raster, checked from its header before any of its data is read.

GDAL opens far more than GeoTIFF, and a GeoTIFF can make it read other files (a VRT
renamed `.tif`, sidecar overviews `.ovr`, `.aux.xml`, `.msk`) or allocate without bound
(10^6 x 10^6 cells declared in a few bytes, millions of tile offsets, a deflate bomb). So
the bytes must start as a TIFF, only GDAL's GTiff driver may open it, the dataset must
consist of that one file, and what it declares must fit the limits; only then is any
pixel read (by the COG conversion, which also catches what a header cannot show).
"""

from __future__ import annotations

import math
import os
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import RasterioError

from ..domain.raster import TIFF_MAGIC
from ..errors import IngestError
from .limits import BOMB_FLOOR_BYTES, RasterLimits

RASTER_SUFFIXES = (".tif", ".tiff")
SUPPORTED_DTYPES = frozenset(
    {"uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"}
)


@dataclass(frozen=True)
class CheckedRaster:
    """What the header declares, once it passed every check."""

    width: int
    height: int
    count: int
    dtype: str
    declared_bytes: int
    file_bytes: int


def is_raster_file(path: Path) -> bool:
    """A GeoTIFF by name (the upload path dispatches on it; the content is checked after)."""
    return path.suffix.lower() in RASTER_SUFFIXES


def check_magic(path: Path) -> None:
    """A TIFF's first bytes, and its first directory inside the file."""
    with path.open("rb") as handle:
        head = handle.read(16)
    if not head:
        raise IngestError("file: the upload is empty")
    if head[:4] not in TIFF_MAGIC:
        raise IngestError("file: the content is not a TIFF (GeoTIFF is the raster format taken)")
    order = "<" if head[:2] == b"II" else ">"
    big = head[2:4] in (b"+\x00", b"\x00+")
    if len(head) < (16 if big else 8):
        raise IngestError("file: the GeoTIFF is truncated (it ends inside its header)")
    first = struct.unpack(order + ("Q" if big else "I"), head[8:16] if big else head[4:8])[0]
    if first >= os.path.getsize(path):
        raise IngestError("file: the GeoTIFF is truncated (its directory lies past the end)")


def check_raster(path: Path, limits: RasterLimits) -> CheckedRaster:
    """Refuse anything but a self-contained GeoTIFF within the limits; IngestError (400)."""
    check_magic(path)
    try:
        with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(path, driver="GTiff") as ds:
            checked = _declared(ds, path, limits)
            _check_files(ds, path)
            _check_georeferencing(ds)
            _check_complete(ds, checked.file_bytes)
    except RasterioError as exc:
        raise IngestError(f"file: not a readable GeoTIFF ({_first_line(exc)})") from None
    return checked


def _declared(ds: rasterio.DatasetReader, path: Path, limits: RasterLimits) -> CheckedRaster:
    width, height, count = ds.width, ds.height, ds.count
    cells = width * height * count
    if cells > limits.max_cells:
        raise IngestError(
            f"file: the raster declares {width:,} x {height:,} x {count} cells"
            f" (limit {limits.max_cells:,})"
        )
    dtypes = set(ds.dtypes)
    if len(dtypes) != 1 or not dtypes <= SUPPORTED_DTYPES:
        raise IngestError(f"file: band types {sorted(dtypes)} are not supported (one real type)")
    block_height, block_width = ds.block_shapes[0]
    blocks = math.ceil(width / block_width) * math.ceil(height / block_height) * count
    if blocks > limits.max_blocks:
        raise IngestError(
            f"file: the TIFF declares {blocks:,} tiles or strips (limit {limits.max_blocks:,})"
        )
    dtype = ds.dtypes[0]
    declared = cells * np.dtype(dtype).itemsize
    if declared > limits.max_bytes:
        raise IngestError(
            f"file: the raster declares {declared:,} bytes uncompressed"
            f" (limit {limits.max_bytes:,})"
        )
    size = os.path.getsize(path)
    if declared > BOMB_FLOOR_BYTES and declared > size * limits.max_ratio:
        raise IngestError(
            f"file: {size:,} bytes that expand to {declared:,}: more than"
            f" {limits.max_ratio:g}x (a compression bomb?)"
        )
    return CheckedRaster(width, height, count, dtype, declared, size)


def _check_files(ds: rasterio.DatasetReader, path: Path) -> None:
    """The dataset must be this file alone: no sidecar overviews, masks or metadata."""
    own = os.path.realpath(path)
    others = [f for f in ds.files if os.path.realpath(f) != own]
    if others:
        names = ", ".join(sorted(Path(f).name for f in others))
        raise IngestError(f"file: the GeoTIFF uses other files ({names}); upload one file")
    if ds.subdatasets:
        raise IngestError("file: the GeoTIFF refers to subdatasets; upload one plain raster")


def _check_georeferencing(ds: rasterio.DatasetReader) -> None:
    if ds.crs is None:
        raise IngestError("file: the GeoTIFF has no CRS (a coverage needs one)")
    transform = ds.transform
    if transform.is_identity or transform.e == 0 or transform.a == 0:
        raise IngestError("file: the GeoTIFF has no geotransform (GCPs alone are not taken)")
    if transform.b != 0 or transform.d != 0:
        raise IngestError("file: rotated or sheared grids are not supported")


def _check_complete(ds: rasterio.DatasetReader, file_bytes: int) -> None:
    """The last block of each band must lie inside the file (a truncated upload fails
    here; damage within the data fails when the conversion reads it)."""
    block_height, block_width = ds.block_shapes[0]
    last_x = math.ceil(ds.width / block_width) - 1
    last_y = math.ceil(ds.height / block_height) - 1
    for band in range(1, ds.count + 1):
        offset = ds.get_tag_item(f"BLOCK_OFFSET_{last_x}_{last_y}", "TIFF", bidx=band)
        size = ds.get_tag_item(f"BLOCK_SIZE_{last_x}_{last_y}", "TIFF", bidx=band)
        if offset is None or size is None:
            continue  # a sparse block (never written): GDAL reads it as nodata
        if int(offset) + int(size) > file_bytes:
            raise IngestError("file: the GeoTIFF is truncated (its data ends past the file)")


def _first_line(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.replace(os.sep, "/").rsplit("/", 1)[-1][:200]

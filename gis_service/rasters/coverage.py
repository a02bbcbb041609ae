"""Reading a coverage: a window of the COG, scaled and reprojected as asked, encoded.

Only the window asked for is read (GDAL reads the COG's tiles that cover it), and a
scaled-down read is served from the overview nearest above the output resolution (GDAL's
RasterIO picks it): a small answer never reads the whole file. The output's size is
checked before anything is read (`CoverageTooLarge`, a 400).
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
import rasterio
from affine import Affine
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import CRSError, NotGeoreferencedWarning, RasterioError
from rasterio.io import MemoryFile
from rasterio.vrt import WarpedVRT
from rasterio.warp import transform_bounds
from rasterio.windows import Window, from_bounds

from ..domain.collection import CollectionInfo
from ..errors import InvalidParameter
from ..store.base import Store
from .files import READ_ENV, open_cog, raster_info_of
from .request import Bounds, CoverageRequest


@dataclass
class CoverageData:
    """The cells read, with their grid: what the encoders write."""

    data: np.ndarray  # bands x rows x cols
    transform: Affine
    crs: CRS
    nodata: float | None
    names: list[str]
    units: list[str | None]
    ranges: list[tuple[float | None, float | None]]  # per band (minimum, maximum)


class CoverageTooLarge(InvalidParameter):
    """The answer would exceed GIS_COVERAGE_MAX_CELLS."""


class EmptyCoverage(Exception):
    """The subset lies wholly outside the coverage (the standard answers 204)."""


def read_coverage(
    store: Store, collection: CollectionInfo, request: CoverageRequest, max_cells: int
) -> CoverageData:
    info = raster_info_of(store, collection, request.version)
    assert info.raster is not None
    bands = request.bands or list(range(1, len(info.raster.bands) + 1))
    with open_cog(store, info) as ds, rasterio.Env(**READ_ENV):
        target = None if request.crs is None else CRS.from_wkt(request.crs)
        if target is None or target == ds.crs:
            return _read(ds, info, request, bands, max_cells, reprojected=False)
        try:
            with WarpedVRT(ds, crs=target, resampling=Resampling.nearest) as vrt:
                return _read(vrt, info, request, bands, max_cells, reprojected=True)
        except (RasterioError, CRSError) as exc:  # no transformation, or none that GDAL
            raise InvalidParameter("crs", f"the coverage cannot be given in it ({exc})") from None


def _read(
    ds: rasterio.DatasetReader | WarpedVRT,
    info: CollectionInfo,
    request: CoverageRequest,
    bands: list[int],
    max_cells: int,
    *,
    reprojected: bool,
) -> CoverageData:
    window = _window(ds, info, request, reprojected)
    width, height = _output_size(window, request)
    cells = width * height * len(bands)
    if cells > max_cells:
        raise CoverageTooLarge(
            "scale-size",
            f"the answer would be {width:,} x {height:,} x {len(bands)} cells (limit"
            f" {max_cells:,}): ask for a smaller subset or bbox, fewer properties, or scale"
            " it down (scale-size, scale-factor, scale-axes)",
        )
    data = ds.read(
        bands, window=window, out_shape=(len(bands), height, width), resampling=Resampling.nearest
    )
    transform = ds.window_transform(window) @ Affine.scale(
        window.width / width, window.height / height
    )
    raster = info.raster
    assert raster is not None
    chosen = [raster.bands[b - 1] for b in bands]
    return CoverageData(
        data=data,
        transform=transform,
        crs=ds.crs,
        nodata=raster.nodata,
        names=[b.name for b in chosen],
        units=[b.unit for b in chosen],
        ranges=[(b.statistics.minimum, b.statistics.maximum) for b in chosen],
    )


def _window(
    ds: rasterio.DatasetReader | WarpedVRT,
    info: CollectionInfo,
    request: CoverageRequest,
    reprojected: bool,
) -> Window:
    """The cells the subset and bbox select, whole cells, within the grid (or Empty)."""
    assert info.raster is not None
    native = list(info.raster.bounds)
    box = [native[i] if v is None else v for i, v in enumerate(request.bounds)]
    if request.crs84_box is not None:
        inner = _transformed("OGC:CRS84", info.raster.crs_wkt, request.crs84_box)
        box = [max(box[0], inner[0]), max(box[1], inner[1]), min(box[2], inner[2]),
               min(box[3], inner[3])]  # fmt: skip
    if box[0] > box[2] or box[1] > box[3]:
        raise EmptyCoverage()
    if reprojected:
        box = list(_transformed(info.raster.crs_wkt, ds.crs, tuple(box)))
    window = from_bounds(*box, transform=ds.transform)
    col0, row0 = math.floor(window.col_off + 1e-9), math.floor(window.row_off + 1e-9)
    col1 = max(math.ceil(window.col_off + window.width - 1e-9), col0 + 1)
    row1 = max(math.ceil(window.row_off + window.height - 1e-9), row0 + 1)
    col0, row0 = max(col0, 0), max(row0, 0)
    col1, row1 = min(col1, ds.width), min(row1, ds.height)
    if col0 >= col1 or row0 >= row1:
        raise EmptyCoverage()
    return Window(col0, row0, col1 - col0, row1 - row0)


def _transformed(source: object, target: object, box: Bounds) -> Bounds:
    """A box in another CRS (edges densified); Empty where the CRS cannot express it."""
    try:
        out = transform_bounds(source, target, *box, densify_pts=21)
    except (RasterioError, CRSError, ValueError):
        raise EmptyCoverage() from None
    if not all(math.isfinite(v) for v in out):
        raise EmptyCoverage()
    return out


def _output_size(window: Window, request: CoverageRequest) -> tuple[int, int]:
    width, height = int(window.width), int(window.height)
    if request.factor is not None:
        fx, fy = request.factor
        width, height = max(1, round(width / fx)), max(1, round(height / fy))
    if request.size is not None:
        width = request.size[0] or width
        height = request.size[1] or height
    return width, height


def encode_geotiff(coverage: CoverageData) -> bytes:
    """A tiled DEFLATE GeoTIFF with the grid, CRS, nodata, band names and units."""
    count, height, width = coverage.data.shape
    profile = dict(
        driver="GTiff",
        width=width,
        height=height,
        count=count,
        dtype=coverage.data.dtype.name,
        crs=coverage.crs,
        transform=coverage.transform,
        nodata=coverage.nodata,
        compress="deflate",
    )
    if width >= 256 and height >= 256:
        profile.update(tiled=True, blockxsize=256, blockysize=256)
    with rasterio.Env(**READ_ENV), MemoryFile() as memory:
        with memory.open(**profile) as dst:
            dst.write(coverage.data)
            dst.descriptions = tuple(coverage.names)
            dst.units = tuple(u or "" for u in coverage.units)
        return memory.read()


def encode_png(coverage: CoverageData) -> bytes:
    """One band as grey, three as RGB, with transparency where there is no data; values
    other than 8-bit are stretched from each band's minimum to maximum."""
    count, height, width = coverage.data.shape
    if count not in (1, 3):
        raise InvalidParameter("properties", f"PNG holds 1 or 3 bands, not {count}: choose some")
    data = coverage.data
    valid = np.ones((height, width), dtype=bool)
    if coverage.nodata is not None:
        valid &= ~np.any(data == coverage.nodata, axis=0)
    if np.issubdtype(data.dtype, np.floating):
        valid &= np.all(np.isfinite(data), axis=0)
    if data.dtype != np.uint8:
        data = _stretch(data, coverage.ranges)
    alpha = np.where(valid, 255, 0).astype("uint8")
    out = np.concatenate([data, alpha[None]]).astype("uint8")
    with rasterio.Env(**READ_ENV), MemoryFile() as memory, warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)  # a PNG has no grid
        with memory.open(
            driver="PNG", width=width, height=height, count=count + 1, dtype="uint8"
        ) as dst:
            dst.write(out)
        return memory.read()


def _stretch(data: np.ndarray, ranges: list[tuple[float | None, float | None]]) -> np.ndarray:
    out = np.zeros(data.shape, dtype="uint8")
    for i, (low, high) in enumerate(ranges):
        band = data[i].astype("float64")
        if low is None or high is None or high <= low:
            continue
        scaled = np.clip((band - low) / (high - low), 0, 1) * 255
        out[i] = np.nan_to_num(scaled).round().astype("uint8")
    return out

"""A stored COG's metadata: its grid, CRS, bands (names, units) and statistics.

Statistics are exact over the full-resolution cells, read block row by block row (memory
stays at one strip of tiles whatever the raster's size); nodata and NaN cells do not count.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import rasterio
from rasterio.windows import Window

from ..domain.raster import BandInfo, BandStatistics, RasterInfo

STRIP_CELLS = 4_000_000  # cells read at a time (x 8 bytes as float64)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.-]{0,62}$")


def crs_code(crs: rasterio.crs.CRS) -> str:
    """`EPSG:n` where the CRS has an authority code, else its WKT."""
    authority = crs.to_authority() if crs is not None else None
    return f"{authority[0]}:{authority[1]}" if authority else crs.to_wkt()


def band_names(descriptions: tuple[str | None, ...]) -> list[str]:
    """Usable band names (the `properties` parameter names them): the band's description
    when it is a plain unique identifier, else `band<n>`."""
    names: list[str] = []
    for i, text in enumerate(descriptions, start=1):
        name = text if text and _NAME.match(text) and text not in names else f"band{i}"
        names.append(name if name not in names else f"band{i}")
    return names


def describe(path: Path, units: tuple[str | None, ...] | None = None) -> RasterInfo:
    """The RasterInfo of a COG; `units` from the source (a COG cannot take them after)."""
    with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(path, driver="GTiff") as ds:
        names = band_names(ds.descriptions)
        units = units or ds.units
        bands = [
            BandInfo(
                name=names[i],
                description=ds.descriptions[i] or None,
                unit=(units[i] or None) if i < len(units) else None,
                statistics=stats,
            )
            for i, stats in enumerate(statistics(ds))
        ]
        block_height, block_width = ds.block_shapes[0]
        return RasterInfo(
            width=ds.width,
            height=ds.height,
            dtype=ds.dtypes[0],
            nodata=ds.nodata,
            crs=crs_code(ds.crs),
            crs_wkt=ds.crs.to_wkt(),
            transform=tuple(ds.transform)[:6],
            bounds=tuple(ds.bounds),
            bands=bands,
            overviews=ds.overviews(1),
            block=(block_width, block_height),
            bytes=path.stat().st_size,
        )


def statistics(ds: rasterio.DatasetReader) -> list[BandStatistics]:
    """Exact min, max, mean, standard deviation and valid share of every band."""
    count = np.zeros(ds.count)
    total = np.zeros(ds.count)
    squares = np.zeros(ds.count)
    low = np.full(ds.count, np.inf)
    high = np.full(ds.count, -np.inf)
    block_rows = ds.block_shapes[0][0]
    rows = block_rows * max(1, STRIP_CELLS // (ds.width * ds.count * block_rows))
    for top in range(0, ds.height, rows):
        window = Window(0, top, ds.width, min(rows, ds.height - top))
        data = ds.read(window=window, masked=True).astype("float64")
        valid = ~np.ma.getmaskarray(data) & np.isfinite(data.filled(np.nan))
        for b in range(ds.count):
            cells = data.data[b][valid[b]]
            if cells.size:
                count[b] += cells.size
                total[b] += cells.sum()
                squares[b] += np.square(cells).sum()
                low[b] = min(low[b], cells.min())
                high[b] = max(high[b], cells.max())
    out = []
    for b in range(ds.count):
        if not count[b]:
            out.append(BandStatistics())
            continue
        mean = total[b] / count[b]
        variance = max(squares[b] / count[b] - mean * mean, 0.0)
        out.append(
            BandStatistics(
                minimum=float(low[b]),
                maximum=float(high[b]),
                mean=float(mean),
                stddev=math.sqrt(variance),
                valid_percent=round(100.0 * count[b] / (ds.width * ds.height), 4),
            )
        )
    return out

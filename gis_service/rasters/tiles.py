"""Map tiles of a raster (OGC API - Maps tiles): a COG drawn into one tile of a tile matrix
set as PNG or WebP, with a named colour ramp or as RGB, nodata transparent.

rio-tiler (what TiTiler is built on) does the reading: the tile's window warped from the
COG's best overview, its nodata mask carried to the alpha band. This module decides what
is drawn (`TileStyle`, from the request and the raster's metadata) and keeps no state:
the caller caches by (collection, version, tile, style), since a version's COG never
changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from ..domain.raster import RasterInfo
from ..errors import InvalidParameter
from . import colormaps, png

#: A collection's link to its map tilesets (OGC API - Maps).
MAP_TILESETS_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map"
PNG = "image/png"
WEBP = "image/webp"
FORMATS = {"png": PNG, "webp": WEBP}
#: Pixels per tile side (the tile matrix sets' own size).
TILE_SIZE = 256


@dataclass(frozen=True)
class TileStyle:
    """What a tile draws: one band through a colour ramp, or three as red, green, blue;
    values from `rescale` (low, high) stretched to 0-255 (None: taken as they are)."""

    bands: tuple[int, ...]
    colormap: str | None
    rescale: tuple[float, float] | None
    media: str = PNG

    def key(self) -> tuple:
        return (self.bands, self.colormap, self.rescale, self.media)


def style_for(
    raster: RasterInfo,
    bands: list[str] | None = None,
    colormap: str | None = None,
    rescale: tuple[float, float] | None = None,
    media: str = PNG,
) -> TileStyle:
    """The style a request asks for, defaults filled from the raster: three byte bands or
    more are drawn as RGB, anything else as its first band through `viridis`, stretched
    over the band's minimum to maximum (a byte band as it is)."""
    chosen = _bands(raster, bands)
    if len(chosen) == 3 and colormap is not None:
        raise InvalidParameter("colormap", "a colour ramp draws one band; three are drawn as RGB")
    ramp = colormaps.check(colormap or colormaps.DEFAULT) if len(chosen) == 1 else None
    if rescale is None:
        rescale = _default_range(raster, chosen)
    return TileStyle(chosen, ramp, rescale, media)


def _bands(raster: RasterInfo, asked: list[str] | None) -> tuple[int, ...]:
    if asked is None:
        rgb = len(raster.bands) >= 3 and raster.dtype == "uint8"
        return (1, 2, 3) if rgb else (1,)
    if len(asked) not in (1, 3):
        raise InvalidParameter("bands", "name one band (drawn with a colormap) or three (RGB)")
    out = []
    for name in asked:
        index = raster.band_index(name)
        if index is None:
            names = ", ".join(b.name for b in raster.bands)
            raise InvalidParameter("bands", f"{name[:40]!r} is not a band; the bands: {names}")
        out.append(index)
    return tuple(out)


def _default_range(raster: RasterInfo, bands: tuple[int, ...]) -> tuple[float, float] | None:
    if raster.dtype == "uint8":
        return None
    stats = [raster.bands[i - 1].statistics for i in bands]
    lows = [s.minimum for s in stats if s.minimum is not None]
    highs = [s.maximum for s in stats if s.maximum is not None]
    if not lows or not highs:
        return None
    low, high = min(lows), max(highs)
    return (low, high) if high > low else (low, low + 1.0)


def parse_rescale(text: str | None) -> tuple[float, float] | None:
    """`rescale=low,high` (as TiTiler spells it), low below high, both finite."""
    if text is None:
        return None
    parts = text.split(",")
    try:
        low, high = (float(p) for p in parts) if len(parts) == 2 else (None, None)
    except ValueError:
        low = high = None
    if low is None or high is None or not (low < high) or abs(low) == float("inf"):
        raise InvalidParameter("rescale", f"expected low,high with low < high, got {text[:40]!r}")
    if abs(high) == float("inf") or low != low or high != high:
        raise InvalidParameter("rescale", "both ends must be finite numbers")
    return (low, high)


@cache
def tile_matrix_set(tms_id: str):
    """morecantile's tile matrix set, once per process: its registry hands out a deep copy
    on every `get` (~2.7 ms, a tenth of a tile); the set is only read, never changed."""
    import morecantile

    return morecantile.tms.get(tms_id)


def render_tile(
    path: str | Path,
    tms_id: str,
    z: int,
    row: int,
    col: int,
    style: TileStyle,
    env: dict[str, str] | None = None,
) -> bytes:
    """The tile's encoded image, or b"" when it holds no valid cell (outside the raster
    or all nodata: the caller answers 204). `env`: GDAL settings to open `path` with."""
    import rasterio
    from rio_tiler.errors import TileOutsideBounds
    from rio_tiler.io import Reader

    from .files import READ_ENV

    settings = {**READ_ENV, **(env or {})}
    with rasterio.Env(**settings), Reader(str(path), tms=tile_matrix_set(tms_id)) as src:
        try:
            image = src.tile(col, row, z, tilesize=TILE_SIZE, indexes=style.bands)
        except TileOutsideBounds:
            return b""
    import numpy as np

    if np.ma.getmaskarray(image.array).all():
        return b""
    if style.rescale is not None:
        image = image.rescale(in_range=(style.rescale,) * len(style.bands))
    elif image.data.dtype != "uint8":
        image = image.rescale(in_range=((0, 255),) * len(style.bands))
    ramp = colormaps.colors(style.colormap) if style.colormap else None
    if style.media == PNG:
        bands = _drawn_bands(image, ramp)
        if bands.dtype == np.uint8:
            return png.encode(bands, up_filter=ramp is None)
    fmt = "WEBP" if style.media == WEBP else "PNG"
    return image.render(img_format=fmt, colormap=ramp)


def _drawn_bands(image, ramp: colormaps.Colors | None):
    """The bands rio-tiler would encode (ramp applied, the mask as the last band), taken
    from its NPY rendering, so that only the PNG encoding is ours (`png`)."""
    import io

    import numpy as np

    return np.load(io.BytesIO(image.render(img_format="NPY", colormap=ramp)))

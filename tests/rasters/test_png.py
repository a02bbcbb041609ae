"""The map tiles' PNG encoder (`gis_service.rasters.png`): what it writes decodes, with
Pillow and with GDAL, to exactly the bands it was given, and a map tile holds exactly the
pixels rio-tiler's own (GDAL) PNG rendering of the same tile holds."""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import morecantile
import numpy as np
import pytest
import rasterio
from PIL import Image
from pyproj import Transformer
from rasterio.io import MemoryFile
from rio_tiler.io import Reader

from gis_service.rasters import colormaps, png
from gis_service.rasters.tiles import TileStyle, render_tile

from .cogs import rgb_cog, signal_cog

MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}


@pytest.fixture(scope="module")
def cogs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("pngcogs")
    return {"signal": signal_cog(folder), "rgb": rgb_cog(folder)}


def gdal_bands(body: bytes) -> np.ndarray:
    with MemoryFile(body) as mem, mem.open() as ds:
        assert ds.driver == "PNG"
        return ds.read()


@pytest.mark.parametrize("count", [1, 2, 3, 4])
@pytest.mark.parametrize("up_filter", [False, True])
def test_decodes_to_the_bands_given(count, up_filter):
    rng = np.random.default_rng(count)
    bands = rng.integers(0, 256, (count, 37, 53), dtype=np.uint8)  # not square, not 256
    bands[:, :10] = 7  # runs, so the compressor has something to do
    body = png.encode(bands, up_filter=up_filter)
    image = Image.open(io.BytesIO(body))
    assert image.format == "PNG" and image.mode == MODES[count] and image.size == (53, 37)
    pixels = np.asarray(image)
    assert np.array_equal(pixels.reshape(37, 53, count), np.moveaxis(bands, 0, -1))
    assert np.array_equal(gdal_bands(body), bands)


def test_a_magnified_tile_takes_the_up_filter():
    """Rows repeating the one above (a tile past the raster's resolution) are stored as
    differences (filter byte 2), which deflate to almost nothing; it still decodes exactly."""
    rng = np.random.default_rng(5)
    coarse = rng.integers(0, 256, (4, 16, 256), dtype=np.uint8)
    bands = np.repeat(coarse, 16, axis=1)  # each row 16 times
    body = png.encode(bands)
    raw = zlib.decompress(body[41:-16])  # IDAT data: after 33 + 8 bytes, before CRC + IEND
    assert raw[0] == png.UP and raw[256 * 4 + 1] == png.UP
    assert np.array_equal(gdal_bands(body), bands)
    plain = png.encode(rng.integers(0, 256, (4, 256, 256), dtype=np.uint8))
    assert zlib.decompress(plain[41:-16])[0] == png.NONE
    assert len(body) < len(plain) / 4


def test_refuses_what_png_cannot_hold():
    with pytest.raises(ValueError):
        png.encode(np.zeros((5, 4, 4), dtype=np.uint8))
    with pytest.raises(ValueError):
        png.encode(np.zeros((1, 4, 4), dtype=np.uint16))


def _rio_tiler_png(path: Path, z: int, row: int, col: int, style: TileStyle) -> bytes:
    """The same tile rendered by rio-tiler alone (GDAL's PNG driver)."""
    with Reader(str(path), tms=morecantile.tms.get("WebMercatorQuad")) as src:
        image = src.tile(col, row, z, tilesize=256, indexes=style.bands)
    if style.rescale is not None:
        image = image.rescale(in_range=(style.rescale,) * len(style.bands))
    ramp = colormaps.colors(style.colormap) if style.colormap else None
    return image.render(img_format="PNG", colormap=ramp)


@pytest.mark.parametrize(
    "name,z,style",
    [
        ("signal", 12, TileStyle((1,), "viridis", (-120.0, -50.0))),
        ("signal", 14, TileStyle((2,), "magma_r", (0.0, 96.0))),
        ("rgb", 15, TileStyle((1, 2, 3), None, None)),
    ],
)
def test_a_tile_holds_rio_tilers_pixels(cogs, name, z, style):
    """A tile near the raster's north-west corner (the signal raster's nodata sea and
    its data): our PNG and rio-tiler's decode to the same bands, alpha included."""
    path = cogs[name]
    with rasterio.open(path) as ds:
        x = ds.bounds.left + 0.2 * (ds.bounds.right - ds.bounds.left)
        y = ds.bounds.top - 0.2 * (ds.bounds.top - ds.bounds.bottom)
        lon, lat = Transformer.from_crs(ds.crs, "OGC:CRS84", always_xy=True).transform(x, y)
    tile = morecantile.tms.get("WebMercatorQuad").tile(lon, lat, z)
    ours = render_tile(path, "WebMercatorQuad", z, tile.y, tile.x, style)
    theirs = _rio_tiler_png(path, z, tile.y, tile.x, style)
    assert ours.startswith(png.SIGNATURE)
    mine, reference = gdal_bands(ours), gdal_bands(theirs)
    assert mine.shape == reference.shape == (4, 256, 256)  # a ramp or RGB, then alpha
    assert np.array_equal(mine, reference)
    assert (mine[-1] == 255).any()  # the tile holds data (and is compared where it does)

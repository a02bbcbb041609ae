"""Raster map tiles: the library (`gis_service.rasters.tiles`) on generated COGs, then the
OGC API - Maps tiles routes on both stores.

Expected colours are computed independently: each pixel's centre is projected into the
raster's CRS (pyproj), its cell read with rasterio, rescaled and looked up in the ramp.
"""

from __future__ import annotations

import io
from pathlib import Path

import morecantile
import numpy as np
import pytest
import rasterio
from PIL import Image
from pyproj import Transformer

from gis_service.errors import InvalidParameter
from gis_service.rasters import colormaps
from gis_service.rasters.tiles import PNG, WEBP, TileStyle, parse_rescale, render_tile, style_for

from .cogs import rgb_cog, rgb_values, signal_cog
from .tiffs import NODATA, signal_values

RANGE = (-120.0, -50.0)


@pytest.fixture(scope="module")
def cogs(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("tilecogs")
    return {"signal": signal_cog(folder), "rgb": rgb_cog(folder)}


def decode(body: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(body)).convert("RGBA"))


def pixel_centres(tms_id: str, z: int, row: int, col: int, crs) -> tuple[np.ndarray, ...]:
    """Each pixel centre of a 256-pixel tile, in `crs` (rows of the tile, columns)."""
    tms = morecantile.tms.get(tms_id)
    bounds = tms.xy_bounds(morecantile.Tile(col, row, z))
    step_x = (bounds.right - bounds.left) / 256
    step_y = (bounds.top - bounds.bottom) / 256
    cols, rows = np.meshgrid(np.arange(256) + 0.5, np.arange(256) + 0.5)
    x = bounds.left + cols * step_x
    y = bounds.top - rows * step_y
    to = Transformer.from_crs(tms.crs._pyproj_crs, crs, always_xy=True)
    return to.transform(x, y)


def source_cells(path: Path, tms_id: str, z: int, row: int, col: int, band: int):
    """The source value under each pixel centre (NaN outside or nodata), read directly."""
    with rasterio.open(path) as ds:
        x, y = pixel_centres(tms_id, z, row, col, ds.crs.to_wkt())
        r, c = rasterio.transform.rowcol(ds.transform, x.ravel(), y.ravel())
        r, c = np.asarray(r), np.asarray(c)
        data = ds.read(band).astype("float64")
        inside = (r >= 0) & (r < ds.height) & (c >= 0) & (c < ds.width)
        out = np.full(r.shape, np.nan)
        out[inside] = data[r[inside], c[inside]]
        if ds.nodata is not None:
            out[out == ds.nodata] = np.nan
    return out.reshape(256, 256)


def corner_tile(path: Path, tms_id: str, z: int) -> tuple[int, int]:
    """(row, col) of the tile holding the corner of the raster's nodata sea (cells
    [0:80, 0:100]), so it shows sea and signal."""
    with rasterio.open(path) as ds:
        x, y = ds.transform * (100, 80)
        lon, lat = Transformer.from_crs(ds.crs, "OGC:CRS84", always_xy=True).transform(x, y)
    tile = morecantile.tms.get(tms_id).tile(lon, lat, z)
    return tile.y, tile.x


@pytest.mark.parametrize("tms_id,z", [("WebMercatorQuad", 14), ("WorldCRS84Quad", 13)])
def test_png_colours_follow_the_ramp_and_nodata_is_transparent(cogs, tms_id, z):
    row, col = corner_tile(cogs["signal"], tms_id, z)
    style = TileStyle((1,), "viridis", RANGE)
    rgba = decode(render_tile(cogs["signal"], tms_id, z, row, col, style))
    expected = source_cells(cogs["signal"], tms_id, z, row, col, 1)
    valid = ~np.isnan(expected)
    assert valid.any() and (~valid).any()  # the tile holds both sea and signal
    alpha_ok = (rgba[..., 3] == 255) == valid
    assert alpha_ok.mean() > 0.98  # pixels on a cell edge may resample either way
    assert (rgba[~valid & alpha_ok][:, 3] == 0).all()
    ramp = np.array([colormaps.colors("viridis")[i][:3] for i in range(256)])
    index = np.clip((expected[valid] - RANGE[0]) / (RANGE[1] - RANGE[0]) * 255, 0, 255)
    drawn = rgba[valid][:, :3].astype(int)
    # the drawn colour is the ramp's at the rescaled value (one step either way: rounding)
    near = np.stack([ramp[np.clip(index.astype(int) + d, 0, 255)] for d in (-1, 0, 1)])
    matches = (np.abs(near - drawn[None]).sum(axis=2) == 0).any(axis=0)
    assert matches.mean() > 0.98


def test_webp_decodes_with_alpha(cogs):
    row, col = corner_tile(cogs["signal"], "WebMercatorQuad", 13)
    body = render_tile(
        cogs["signal"], "WebMercatorQuad", 13, row, col, TileStyle((1,), "magma", RANGE, WEBP)
    )
    image = Image.open(io.BytesIO(body))
    assert image.format == "WEBP" and image.mode == "RGBA"
    alpha = np.asarray(image)[..., 3]
    assert (alpha == 0).any() and (alpha == 255).any()


def test_outside_the_raster_is_empty(cogs):
    assert (
        render_tile(cogs["signal"], "WebMercatorQuad", 10, 0, 0, TileStyle((1,), "viridis", RANGE))
        == b""
    )


def test_a_tile_over_nodata_only_is_empty(cogs, tmp_path):
    with rasterio.open(cogs["signal"]) as ds:
        west, north = Transformer.from_crs(ds.crs, "OGC:CRS84", always_xy=True).transform(
            ds.bounds.left + 100, ds.bounds.top - 100
        )
    tile = morecantile.tms.get("WebMercatorQuad").tile(west, north, 17)  # ~1 m pixels, all sea
    style = TileStyle((1,), "viridis", RANGE)
    assert render_tile(cogs["signal"], "WebMercatorQuad", 17, tile.y, tile.x, style) == b""
    assert np.isnan(source_cells(cogs["signal"], "WebMercatorQuad", 17, tile.y, tile.x, 1)).all()
    assert (signal_values()[0][:10, :10] == NODATA).all()


def test_three_byte_bands_are_drawn_as_rgb(cogs):
    tile = morecantile.tms.get("WebMercatorQuad").tile(55.41, 25.39, 15)
    rgba = decode(
        render_tile(
            cogs["rgb"], "WebMercatorQuad", 15, tile.y, tile.x, TileStyle((1, 2, 3), None, None)
        )
    )
    expected = np.stack(
        [source_cells(cogs["rgb"], "WebMercatorQuad", 15, tile.y, tile.x, b) for b in (1, 2, 3)],
        axis=-1,
    )
    inside = ~np.isnan(expected).any(axis=-1)
    assert inside.mean() > 0.5
    same = (rgba[..., :3][inside] == expected[inside]).all(axis=1)
    assert same.mean() > 0.98
    assert rgb_values().dtype == np.uint8


def test_styles_default_from_the_raster_and_refuse_what_cannot_be_drawn():
    from gis_service.domain.raster import BandInfo, BandStatistics, RasterInfo

    def raster(dtype: str, count: int) -> RasterInfo:
        stats = BandStatistics(minimum=-110.0, maximum=-60.0)
        bands = [BandInfo(name=f"b{i}", statistics=stats) for i in range(1, count + 1)]
        return RasterInfo(
            width=10,
            height=10,
            dtype=dtype,
            crs="EPSG:4326",
            crs_wkt="",
            bands=bands,
            transform=(1, 0, 0, 0, -1, 10),
            bounds=(0, 0, 10, 10),
        )

    assert style_for(raster("float32", 2)) == TileStyle((1,), "viridis", (-110.0, -60.0), PNG)
    assert style_for(raster("uint8", 3)) == TileStyle((1, 2, 3), None, None, PNG)
    assert style_for(raster("float32", 2), ["b2"], "Magma", (0, 1)).colormap == "magma"
    for kwargs, parameter in [
        ({"colormap": "no-such-ramp"}, "colormap"),
        ({"bands": ["b3"]}, "bands"),
        ({"bands": ["b1", "b2"]}, "bands"),
    ]:
        with pytest.raises(InvalidParameter) as caught:
            style_for(raster("float32", 2), **kwargs)
        assert caught.value.parameter == parameter
    with pytest.raises(InvalidParameter):
        style_for(raster("uint8", 3), colormap="viridis")
    assert parse_rescale("-100,-60.5") == (-100.0, -60.5)
    for bad in ("1", "2,1", "a,b", "nan,1", "1,inf", "1,2,3", ""):
        with pytest.raises(InvalidParameter):
            parse_rescale(bad)


def test_legend_is_the_ramp_at_even_steps():
    legend = colormaps.legend("viridis", -120, -50, steps=3)
    assert [s["value"] for s in legend] == [-120, -85, -50]
    first = colormaps.colors("viridis")[0]
    assert legend[0]["color"] == "#{:02x}{:02x}{:02x}".format(*first[:3])
    assert "viridis_r" in colormaps.names()

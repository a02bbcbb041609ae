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
from .tiffs import NODATA, signal_values, write_signal_tif

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


# --- the OGC API - Maps tiles routes, both stores ---------------------------------------

TILES = "/collections/{cid}/map/tiles/{tms}/{z}/{row}/{col}"


@pytest.fixture(scope="module")
def maps(world, tmp_path_factory):
    """A public raster `sig`, a private one `sig-private`, a vector collection `pts`."""
    folder = tmp_path_factory.mktemp("maps")
    tif = write_signal_tif(folder / "signal.tif")
    assert world.upload("sig", tif, visibility="public").status_code == 201
    assert world.upload("sig-private", tif).status_code == 201
    with rasterio.open(tif) as ds:
        stats = [float(ds.read(1, masked=True).min()), float(ds.read(1, masked=True).max())]
    return tif, stats


def tile_url(cid: str, tms_id: str, z: int, row: int, col: int, query: str = "") -> str:
    return TILES.format(cid=cid, tms=tms_id, z=z, row=row, col=col) + query


def test_map_tile_is_the_ramp_over_the_band_range_with_nodata_transparent(world, maps):
    tif, (low, high) = maps
    row, col = corner_tile(tif, "WebMercatorQuad", 14)
    res = world.client.get(tile_url("sig", "WebMercatorQuad", 14, row, col))
    assert res.status_code == 200, res.text
    assert res.headers["content-type"] == "image/png"
    rgba = decode(res.content)
    expected = source_cells(tif, "WebMercatorQuad", 14, row, col, 1)
    valid = ~np.isnan(expected)
    assert ((rgba[..., 3] == 255) == valid).mean() > 0.98
    ramp = np.array([colormaps.colors("viridis")[i][:3] for i in range(256)])
    index = np.clip((expected[valid] - low) / (high - low) * 255, 0, 255).astype(int)
    near = np.stack([ramp[np.clip(index + d, 0, 255)] for d in (-1, 0, 1)])
    drawn = rgba[valid][:, :3].astype(int)
    assert (np.abs(near - drawn[None]).sum(axis=2) == 0).any(axis=0).mean() > 0.98


def test_colormap_rescale_bands_and_webp(world, maps):
    tif, _ = maps
    row, col = corner_tile(tif, "WorldCRS84Quad", 13)
    url = tile_url("sig", "WorldCRS84Quad", 13, row, col)
    plain = world.client.get(url).content
    magma = world.client.get(url + "?colormap=magma&rescale=-120,-50")
    assert magma.status_code == 200 and magma.content != plain
    rgba = decode(magma.content)
    expected = source_cells(tif, "WorldCRS84Quad", 13, row, col, 1)
    valid = ~np.isnan(expected) & (rgba[..., 3] == 255)
    index = np.clip((expected[valid] - RANGE[0]) / (RANGE[1] - RANGE[0]) * 255, 0, 255)
    ramp = np.array([colormaps.colors("magma")[i][:3] for i in range(256)])
    near = np.stack([ramp[np.clip(index.astype(int) + d, 0, 255)] for d in (-1, 0, 1)])
    drawn = rgba[valid][:, :3].astype(int)
    assert (np.abs(near - drawn[None]).sum(axis=2) == 0).any(axis=0).mean() > 0.98
    quality = world.client.get(url + "?bands=quality&rescale=0,96")
    assert quality.status_code == 200 and quality.content != plain
    webp = world.client.get(url + "?f=webp")
    assert webp.headers["content-type"] == "image/webp"
    assert Image.open(io.BytesIO(webp.content)).format == "WEBP"
    accepted = world.client.get(url, headers={"Accept": "image/webp"})
    assert accepted.headers["content-type"] == "image/webp"
    assert "Accept" in accepted.headers["vary"]
    assert webp.headers["etag"] != world.client.get(url).headers["etag"]


def test_etag_revalidates_and_cache_control_follows_visibility(world, maps):
    tif, _ = maps
    row, col = corner_tile(tif, "WebMercatorQuad", 13)
    url = tile_url("sig", "WebMercatorQuad", 13, row, col)
    first = world.client.get(url)
    etag = first.headers["etag"]
    assert first.headers["cache-control"] == "public, no-cache"
    again = world.client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.headers["etag"] == etag and not again.content
    assert world.client.get(url).content == first.content
    private = tile_url("sig-private", "WebMercatorQuad", 13, row, col)
    assert world.client.get(private).status_code == 404  # hidden: as if absent
    assert world.client.get(private, headers=world.keys["other"]).status_code == 404
    mine = world.client.get(private, headers=world.keys["viewer"])
    assert mine.status_code == 200
    assert mine.headers["cache-control"] == "private, no-cache"
    assert "Authorization" in mine.headers["vary"]


def test_a_new_version_changes_the_tile_and_its_etag(world, maps, tmp_path):
    tif, _ = maps
    source = write_signal_tif(tmp_path / "v1.tif")
    assert world.upload("sig-versions", source, visibility="public").status_code == 201
    row, col = corner_tile(tif, "WebMercatorQuad", 13)
    url = tile_url("sig-versions", "WebMercatorQuad", 13, row, col, "?rescale=-120,-50")
    before = world.client.get(url)
    with rasterio.open(source, "r+") as ds:
        ds.write(ds.read(1) + 20.0 * (ds.read(1) != NODATA), 1)
    res = world.client.put(
        "/collections/sig-versions/data",
        headers=world.keys["editor"],
        files={"file": ("v2.tif", source.read_bytes())},
    )
    assert res.status_code == 200, res.text
    after = world.client.get(url, headers={"If-None-Match": before.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != before.headers["etag"]
    assert after.content != before.content


@pytest.mark.parametrize(
    "path,status",
    [
        ("/collections/sig/map/tiles/WebMercatorQuad/10/0/0", 204),  # outside the raster
        ("/collections/sig/map/tiles/WebMercatorQuad/3/8/0", 404),  # row outside matrix 3
        ("/collections/sig/map/tiles/WebMercatorQuad/23/0/0", 400),
        ("/collections/sig/map/tiles/WebMercatorQuad/3/x/0", 400),
        ("/collections/sig/map/tiles/NoSuchSet/3/0/0", 404),
        ("/collections/sig/map/tiles/WebMercatorQuad/3/0/0?colormap=nope", 400),
        ("/collections/sig/map/tiles/WebMercatorQuad/3/0/0?rescale=5", 400),
        ("/collections/sig/map/tiles/WebMercatorQuad/3/0/0?bands=nope", 400),
        ("/collections/sig/map/tiles/WebMercatorQuad/3/0/0?bands=signal,quality", 400),
        ("/collections/sig/map/tiles/WebMercatorQuad/3/0/0?f=jpeg", 400),
        ("/collections/sig/map/tiles/WebMercatorQuad/3/0/0?nope=1", 400),
        ("/collections/sig/map/tiles/WebMercatorQuad?colormap=nope", 400),
        ("/collections/none/map/tiles/WebMercatorQuad/3/0/0", 404),
    ],
)
def test_bad_tiles_answer_4xx_problems(world, maps, path, status):
    res = world.client.get(path)
    assert res.status_code == status, res.text
    if status >= 400:
        assert res.headers["content-type"].startswith("application/problem+json")


def test_a_collection_of_features_has_no_map_tiles(world, maps):
    res = world.client.post(
        "/collections",
        headers=world.keys["editor"],
        data={"id": "pts", "visibility": "public"},
        files={"file": ("pts.geojson", _points_geojson())},
    )
    assert res.status_code == 201, res.text
    assert world.client.get("/collections/pts/map/tiles/WebMercatorQuad/3/3/5").status_code == 404
    assert world.client.get("/collections/pts/map/tiles").status_code == 404


def _points_geojson() -> bytes:
    import orjson

    feature = {"type": "Feature", "geometry": {"type": "Point", "coordinates": [55.6, 25.3]}}
    return orjson.dumps(
        {"type": "FeatureCollection", "features": [{**feature, "properties": {"n": 1}}]}
    )


def test_tileset_metadata_links_tiles_and_gives_the_legend(world, maps):
    _tif, (low, high) = maps
    doc = world.client.get("/collections/sig/map/tiles/WebMercatorQuad?colormap=plasma").json()
    assert doc["dataType"] == "map" and doc["mediaTypes"] == ["image/png", "image/webp"]
    assert doc["style"]["colormap"] == "plasma" and doc["style"]["unit"] == "dBm"
    legend = doc["style"]["legend"]
    assert legend[0]["value"] == pytest.approx(low, abs=1e-3)
    assert legend[-1]["value"] == pytest.approx(high, abs=1e-3)
    assert legend[0]["color"] == "#{:02x}{:02x}{:02x}".format(*colormaps.colors("plasma")[0][:3])
    assert int(doc["layers"][0]["maxTileMatrix"]) in (12, 13)  # 30 m cells near 25° N
    items = [x for x in doc["links"] if x["rel"] == "item"]
    assert {x["type"] for x in items} == {"image/png", "image/webp"}
    href = items[0]["href"].replace("http://testserver", "")
    assert "colormap=plasma" in href and "{tileMatrix}/{tileRow}/{tileCol}" in href
    tilesets = world.client.get("/collections/sig/map/tiles").json()["tilesets"]
    assert [t["dataType"] for t in tilesets] == ["map", "map"]
    collection = world.client.get("/collections/sig").json()
    rels = {x["rel"] for x in collection["links"]}
    assert "http://www.opengis.net/def/rel/ogc/1.0/tilesets-map" in rels
    conformance = world.client.get("/conformance").json()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/png" in conformance
    assert world.client.get("/collections/sig-private/map/tiles/WebMercatorQuad").status_code == 404

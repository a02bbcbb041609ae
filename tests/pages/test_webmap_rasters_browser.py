"""Raster layers on the web map in a real browser (headless Chromium): a raster collection
is drawn from its map tiles under the vector layers, with its ramp's legend; a click
reads its bands; its download is the coverage of the view; a private one needs a key."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import rasterio
from pyproj import Transformer

from gis_service.domain.access import AccessPolicy, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

from ..conftest import DATA, LiveServer, issue_key, make_settings, watched_page
from ..rasters.tiffs import write_signal_tif
from .test_webmap_browser import css_hex, layer_pixels, open_map

MAP_TILE = "/collections/signal/map/tiles/WebMercatorQuad/"


@pytest.fixture(scope="module")
def world(request, tmp_path_factory) -> Iterator[tuple[LiveServer, str, object]]:
    folder = tmp_path_factory.mktemp("rastermap")
    settings: Settings = make_settings("geopackage", request, folder)
    store = open_store(settings)
    tif = write_signal_tif(folder / "signal.tif")
    import_file(store, tif, IngestOptions(collection_id="signal", title="Signal strength"))
    import_file(store, tif, IngestOptions(collection_id="hidden-signal", title="Hidden signal"))
    store.catalog.set_access(
        "hidden-signal", AccessPolicy(owner="tdra", visibility=Visibility.PRIVATE)
    )
    import_file(
        store,
        DATA / "districts.geojson",
        IngestOptions(collection_id="districts", title="Districts"),
    )
    token = issue_key(store, "tdra", Role.VIEWER)["Authorization"].removeprefix("Bearer ")
    store.close()
    with LiveServer(settings) as server:
        yield server, token, tif


@pytest.fixture
def page(browser, world):
    context, page, errors = watched_page(browser, viewport={"width": 1280, "height": 900})
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.errors = errors
    yield page
    context.close()


def test_a_raster_is_drawn_from_map_tiles_under_the_vectors_with_its_legend(page, world):
    server, _token, _tif = world
    open_map(page, server, "?layer=signal")
    page.locator("li.layer[data-collection=signal] button.zoom").evaluate("el => el.click()")
    page.wait_for_function("window.gisMap.loaded() && window.gisMap.areTilesLoaded()")
    tiles = [u for u in page.requests if MAP_TILE in u]
    assert tiles and all(u.startswith(server.url) for u in tiles)
    item = page.locator("li.layer[data-collection=signal]")
    assert item.get_attribute("data-kind") == "raster"
    labels = item.locator(".legend li").all_inner_texts()
    assert len(labels) == 6 and all(label.endswith("dBm") for label in labels)
    swatches = item.locator(".legend .swatch")
    colours = [
        css_hex(swatches.nth(i).evaluate("el => getComputedStyle(el).backgroundColor"))
        for i in range(6)
    ]
    assert sum(layer_pixels(page, c) for c in colours) > 200  # the ramp's colours are drawn
    order = page.evaluate("window.gisMap.getStyle().layers.map(l => l.id)")
    raster = order.index("lyr:signal:raster")
    assert all(raster < i for i, name in enumerate(order) if name.startswith("lyr:districts:"))
    assert item.locator("form.filter").is_hidden()
    assert page.locator("li.layer[data-collection=hidden-signal]").count() == 0
    assert page.errors == []


def test_a_click_reads_the_bands_and_the_download_is_the_coverage_of_the_view(page, world):
    server, _token, tif = world
    open_map(page, server, "?layer=signal")
    with rasterio.open(tif) as ds:
        x, y = ds.transform * (400.5, 300.5)  # a cell's centre, inland
        lon, lat = Transformer.from_crs(ds.crs, "OGC:CRS84", always_xy=True).transform(x, y)
        want = ds.read(window=((300, 301), (400, 401)))[:, 0, 0]
    page.evaluate(f"window.gisMap.jumpTo({{center: [{lon}, {lat}], zoom: 16}})")
    page.wait_for_function("window.gisMap.loaded() && window.gisMap.areTilesLoaded()")
    at = page.evaluate(f"window.gisMap.project([{lon}, {lat}])")
    page.locator("#webmap canvas").click(position={"x": at["x"], "y": at["y"]})
    card = page.locator("#picked [data-raster=signal]")
    card.wait_for()
    signal = float(card.locator("td[data-property=signal]").inner_text())
    quality = float(card.locator("td[data-property=quality]").inner_text())
    assert np.allclose([signal, quality], want, atol=1e-4)
    href = page.locator("li.layer[data-collection=signal] a.download-link").get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    assert urlsplit(href).path == "/collections/signal/coverage" and query["f"] == ["tif"]
    res = page.request.get(href)
    assert res.status == 200
    with rasterio.MemoryFile(res.body()) as memory, memory.open() as got:
        assert got.count == 2 and got.width > 0
    assert page.errors == []


def test_a_private_raster_appears_after_signing_in(page, world):
    server, token, _tif = world
    open_map(page, server)
    page.locator("#key").fill(token)
    page.locator("#sign-in button[type=submit]").click()
    page.wait_for_selector("li.layer[data-collection=hidden-signal]", timeout=20_000)
    item = page.locator("li.layer[data-collection=hidden-signal]")
    item.locator("button.zoom").evaluate("el => el.click()")
    page.wait_for_function("window.gisMap.loaded() && window.gisMap.areTilesLoaded()")
    assert any("/collections/hidden-signal/map/tiles/" in u for u in page.requests)
    assert not any(token in u for u in page.requests)
    assert page.errors == []

"""The web map in a real browser (Debian's headless Chromium): tiles drawn, clicks, the
filter box, downloads, signing in, Arabic. One embedded store with a public and a private
layer; what the map shows per caller comes from the same API the access matrix tests."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
import rasterio.errors
import rasterio.io

from gis_service.domain.access import AccessPolicy, Role, Visibility
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

from ..conftest import DATA, LiveServer, issue_key, make_settings, watched_page

TILE = re.compile(r"/collections/([^/]+)/tiles/WebMercatorQuad/\d+/\d+/\d+")


@pytest.fixture(scope="module")
def world(request, tmp_path_factory) -> Iterator[tuple[LiveServer, str]]:
    settings: Settings = make_settings("geopackage", request, tmp_path_factory.mktemp("map"))
    store = open_store(settings)
    import_file(
        store,
        DATA / "facilities.geojson",
        IngestOptions(collection_id="facilities", title="Facilities", temporal=("opened", None)),
    )
    import_file(
        store,
        DATA / "districts.geojson",
        IngestOptions(collection_id="secret", title="Secret districts", title_ar="مناطق سرية"),
    )
    store.catalog.set_access("secret", AccessPolicy(owner="sha", visibility=Visibility.PRIVATE))
    token = issue_key(store, "sha", Role.VIEWER)["Authorization"].removeprefix("Bearer ")
    store.close()
    with LiveServer(settings) as server:
        yield server, token


@pytest.fixture
def page(browser, world):
    context, page, errors = watched_page(browser, viewport={"width": 1280, "height": 900})
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.errors = errors
    yield page
    context.close()


def open_map(page, server: LiveServer, query: str = "") -> None:
    page.goto(f"{server.url}/map{query}", wait_until="load")
    page.wait_for_selector("#webmap[data-layers]", timeout=20_000)
    page.wait_for_function("window.gisMap.loaded() && window.gisMap.areTilesLoaded()")


def layer_pixels(page, colour: str) -> int:
    """How many pixels of the map are (nearly) the colour, from a screenshot."""
    png = page.locator("#webmap canvas").screenshot()
    with warnings.catch_warnings():  # a screenshot has no georeferencing, as expected
        warnings.simplefilter("ignore", rasterio.errors.NotGeoreferencedWarning)
        with rasterio.io.MemoryFile(png) as f, f.open() as image:
            rgb = image.read()[:3].astype(int)
    target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)]).reshape(3, 1, 1)
    return int((np.abs(rgb - target).max(axis=0) <= 8).sum())


def css_hex(rgb: str) -> str:
    r, g, b = (int(v) for v in re.findall(r"\d+", rgb)[:3])
    return f"#{r:02x}{g:02x}{b:02x}"


def test_the_map_draws_tiles_and_stays_on_this_server(page, world):
    server, _token = world
    open_map(page, server, "?layer=facilities")
    tiles = [u for u in page.requests if TILE.search(u)]
    assert tiles and all(TILE.search(u).group(1) == "facilities" for u in tiles)
    off_site = [u for u in page.requests if not u.startswith((server.url, "data:", "blob:"))]
    assert off_site == []
    swatch = page.locator("li.layer[data-collection=facilities] .swatch").first
    colour = css_hex(swatch.evaluate("el => getComputedStyle(el).backgroundColor"))
    assert layer_pixels(page, colour) > 50
    assert page.locator("li.layer[data-collection=secret]").count() == 0  # not signed in
    assert page.errors == []


def test_a_click_shows_the_features_arabic_name(page, world):
    server, _token = world
    open_map(page, server, "?layer=facilities")
    feature = page.request.get(f"{server.url}/collections/facilities/items/17").json()
    lon, lat = feature["geometry"]["coordinates"]
    page.evaluate(f"window.gisMap.jumpTo({{center: [{lon}, {lat}], zoom: 18}})")
    page.wait_for_function("window.gisMap.loaded() && window.gisMap.areTilesLoaded()")
    page.wait_for_timeout(300)
    at = page.evaluate(f"window.gisMap.project([{lon}, {lat}])")
    page.locator("#webmap canvas").click(position={"x": at["x"], "y": at["y"]})
    heading = page.locator("#picked h3")
    heading.wait_for()
    assert heading.get_attribute("data-id") == "17"
    cell = page.locator("#picked td[data-property=name_ar]")
    page.wait_for_function(
        "name => document.querySelector('#picked td[data-property=name_ar]')?.textContent === name",
        arg=feature["properties"]["name_ar"],
    )
    assert cell.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert page.locator("#picked a", has_text="Open the feature").count() == 1
    assert page.errors == []


def test_the_filter_box_changes_the_tiles_and_the_download(page, world):
    server, _token = world
    open_map(page, server, "?layer=facilities")
    item = page.locator("li.layer[data-collection=facilities]")
    item.locator("details.tools summary").click()
    item.locator("input.cql").fill("category = 'nonsense")
    item.locator("form.filter button[type=submit]").click()
    error = item.locator("p.error")
    error.wait_for(state="visible")
    assert "filter" in error.inner_text().lower()
    item.locator("input.cql").fill("category = 'school'")
    item.locator("form.filter button[type=submit]").click()
    page.wait_for_selector("li.layer[data-filter=\"category = 'school'\"]")
    assert item.locator("p.error").is_hidden()
    page.wait_for_function("window.gisMap.loaded() && window.gisMap.areTilesLoaded()")
    before = len(page.requests)
    page.evaluate("window.gisMap.zoomTo(window.gisMap.getZoom() + 1, {duration: 0})")
    page.wait_for_function("window.gisMap.loaded() && window.gisMap.areTilesLoaded()")
    filtered = [u for u in page.requests[before:] if TILE.search(u)]
    assert filtered and all("filter=category" in u for u in filtered)
    href = item.locator("a.download-link").get_attribute("href")
    query = parse_qs(urlsplit(href).query)
    assert query["filter"] == ["category = 'school'"]
    west, south, east, north = (float(v) for v in query["bbox"][0].split(","))
    bounds = page.evaluate("window.gisMap.getBounds().toArray()")
    assert abs(west - bounds[0][0]) < 1e-5 and abs(north - bounds[1][1]) < 1e-5
    assert south < north and west < east
    assert query["f"] == ["geojson"]
    downloaded = page.request.get(href).json()
    assert downloaded["features"]
    assert {f["properties"]["category"] for f in downloaded["features"]} == {"school"}
    # the browser logs the refused filter's 400 itself; nothing else may go wrong
    assert [e for e in page.errors if "status of 400" not in e] == []


def test_a_private_layer_appears_only_after_signing_in(page, world):
    server, token = world
    open_map(page, server)
    assert page.locator("li.layer[data-collection=secret]").count() == 0
    page.locator("#key").fill(token)
    page.locator("#sign-in button[type=submit]").click()
    page.wait_for_selector("li.layer[data-collection=secret]", timeout=20_000)
    page.wait_for_function("window.gisMap.loaded() && window.gisMap.areTilesLoaded()")
    assert any(TILE.search(u) and "/secret/" in u for u in page.requests)
    assert not any(token in u for u in page.requests)  # the key travels in a header only
    assert token not in page.content()
    assert page.evaluate("sessionStorage.getItem('gis_key')") == token
    page.locator("#sign-out").click()
    page.wait_for_function("!document.querySelector('li.layer[data-collection=secret]')")
    assert page.errors == []


def test_the_arabic_interface_is_right_to_left_and_remembered(browser, world):
    server, _token = world
    context, page, errors = watched_page(browser, locale="ar")
    try:
        page.goto(f"{server.url}/map", wait_until="load")
        assert page.locator("html").get_attribute("dir") == "rtl"
        assert page.locator("html").get_attribute("lang") == "ar"
        assert page.get_by_role("heading", name="الطبقات").count() == 1
        page.locator("#lang-switch").click()  # to English, remembered for every page
        page.wait_for_selector("html[lang=en]")
        page.goto(f"{server.url}/collections?f=html", wait_until="load")
        assert page.locator("html").get_attribute("dir") == "ltr"
        page.locator("#lang-switch").click()
        page.wait_for_selector("html[dir=rtl]")
        assert page.get_by_role("heading", level=1).inner_text() == "مجموعات البيانات"
        assert errors == []
    finally:
        context.close()

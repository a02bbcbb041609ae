"""The HTML pages against hostile data and errors, on both stores, also in a real browser.

Stored markup must stay data inside a page's JSON block; a browser's error is a page in
the site's layout (Arabic right-to-left when asked); a single point is drawn mid-map.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser

import orjson
import pytest
from fastapi.testclient import TestClient

from gis_service.app import create_app
from gis_service.ingest import IngestOptions, import_file
from gis_service.settings import Settings
from gis_service.store.factory import open_store

from ..conftest import STORES, LiveServer, make_settings, watched_page

HOSTILE = "x</script><script>window.__pwned=1</script><!--<script>\u2028\u2029 a&amp;b > c"
UNSAFE = ("<", ">", "&", "\u2028", "\u2029")


def layer(*geometries: dict, properties: dict | None = None) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": properties or {"n": i}, "geometry": g}
            for i, g in enumerate(geometries)
        ],
    }


def point(x: float, y: float) -> dict:
    return {"type": "Point", "coordinates": [x, y]}


LAYERS = {
    "hostile": (
        HOSTILE,
        layer(
            point(55.2, 25.1),
            point(55.4, 25.3),
            properties={"name": HOSTILE, "note": "<!-- <script>", "plain": "ok"},
        ),
    ),
    "one": ("One point", layer(point(55.3, 25.2))),
    "flat": (
        "A horizontal line",
        layer({"type": "LineString", "coordinates": [[55.0, 25.2], [55.6, 25.2]]}),
    ),
    "upright": (
        "A vertical line",
        layer({"type": "LineString", "coordinates": [[55.3, 25.0], [55.3, 25.4]]}),
    ),
}


@pytest.fixture(scope="module", params=STORES)
def settings(request, tmp_path_factory) -> Settings:
    folder = tmp_path_factory.mktemp("pages")
    made = make_settings(request.param, request, folder)
    store = open_store(made)
    try:
        for cid, (title, data) in LAYERS.items():
            path = folder / f"{cid}.geojson"
            path.write_bytes(orjson.dumps(data))
            import_file(store, path, IngestOptions(collection_id=cid, title=title))
    finally:
        store.close()
    return made


@pytest.fixture(scope="module")
def pages(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def server(settings: Settings) -> Iterator[LiveServer]:
    with LiveServer(settings) as live:
        yield live


class Texts(HTMLParser):
    """Text of the elements a test asks about, as a browser's parser reads it."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if self.stack:
            self.text[self.stack[-1]] = self.text.get(self.stack[-1], "") + data


def json_block(page: str) -> tuple[str, object]:
    found = re.search(
        r'<script id="features" type="application/geo\+json">(.*?)</script>', page, re.S
    )
    assert found, "no GeoJSON block"
    return found.group(1), orjson.loads(found.group(1))


@pytest.mark.parametrize("path", ["/collections/hostile/items", "/collections/hostile/items/1"])
def test_stored_markup_stays_data_in_the_json_block(pages, path):
    res = pages.get(path, params={"f": "html"})
    assert res.status_code == 200
    raw, data = json_block(res.text)
    assert not [c for c in UNSAFE if c in raw], raw[:300]
    features = data.get("features", [data])
    assert len(features) == (2 if path.endswith("items") else 1)
    expected = pages.get(path).json()
    for got, want in zip(features, expected.get("features", [expected]), strict=True):
        assert got["properties"] == want["properties"]
        assert got["properties"]["name"] == HOSTILE
        assert got["properties"]["note"] == "<!-- <script>"
    texts = Texts()
    texts.feed(res.text)
    assert texts.text["title"].startswith(("Features of " + HOSTILE, "Feature 1 of " + HOSTILE))


def test_json_in_the_api_page_is_escaped(settings):
    odd = "https://gis.example/a&b</script><!--"
    with TestClient(create_app(settings.model_copy(update={"base_url": odd}))) as client:
        page = client.get("/api.html").text
    script = page.split("SwaggerUIBundle(")[1].split("</script>")[0]
    assert "<" not in script and "&" not in script
    url = orjson.loads(script.split("url: ")[1].split(", dom_id")[0])
    assert url == odd + "/api"


# --- errors as pages -------------------------------------------------------------------

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_gets_an_error_page_in_the_layout(pages):
    for request in (
        dict(params={"f": "html"}),
        dict(headers={"Accept": BROWSER_ACCEPT}),
    ):
        res = pages.get("/collections/nope/items", **request)
        assert res.status_code == 404
        assert res.headers["content-type"].startswith("text/html")
        page = res.text
        assert '<html lang="en" dir="ltr">' in page
        assert 'class="brand"' in page and "<footer>" in page  # base.html
        assert "404" in page and "Not found" in page
        assert "collection &#39;nope&#39; does not exist" in page
        assert 'href="http://testserver/collections/nope?f=html"' in page  # one level up
        assert 'href="http://testserver/?f=html"' in page


def test_json_clients_keep_problem_json(pages):
    for headers in ({}, {"Accept": "application/json"}, {"Accept": "*/*"}):
        res = pages.get("/collections/nope/items", headers=headers)
        assert res.status_code == 404
        assert res.headers["content-type"] == "application/problem+json"
        assert res.json()["detail"] == "collection 'nope' does not exist"


def test_an_invalid_parameter_page_names_it_and_links_without_it(pages):
    res = pages.get(
        "/collections/one/items", params={"f": "html", "limit": "abc", "bbox": "1,2,3,4"}
    )
    assert res.status_code == 400
    page = res.text
    assert "<code>limit</code>" in page and "&#39;abc&#39; is not an integer" in page
    assert 'href="http://testserver/collections/one/items?f=html&amp;bbox=1%2C2%2C3%2C4"' in page


def test_an_invalid_f_from_a_browser_is_a_page(pages):
    res = pages.get("/collections/one", params={"f": "xml"}, headers={"Accept": BROWSER_ACCEPT})
    assert res.status_code == 400
    assert res.headers["content-type"].startswith("text/html")
    assert "<code>f</code>" in res.text
    plain = pages.get("/collections/one", params={"f": "xml"})
    assert plain.headers["content-type"] == "application/problem+json"


def test_error_pages_keep_the_errors_headers(pages):
    res = pages.delete("/conformance", headers={"Accept": BROWSER_ACCEPT})
    assert res.status_code == 405 and res.headers["content-type"].startswith("text/html")
    assert "GET" in res.headers["allow"]
    res = pages.get("/collections", params={"f": "html"}, headers={"Authorization": "Basic x"})
    assert res.status_code == 401 and res.headers["content-type"].startswith("text/html")
    assert res.headers["www-authenticate"].startswith("Bearer")


def test_error_pages_speak_arabic_right_to_left(pages):
    res = pages.get(
        "/collections/nope",
        params={"f": "html"},
        headers={"Accept-Language": "ar-AE,ar;q=0.9,en;q=0.5"},
    )
    assert res.status_code == 404
    page = res.text
    assert '<html lang="ar" dir="rtl">' in page
    assert "غير موجود" in page and "الصفحة الرئيسية" in page
    assert 'lang="en" dir="ltr">collection &#39;nope&#39; does not exist</bdi>' in page
    english = pages.get("/collections/nope?f=html", headers={"Accept-Language": "en;q=1, ar;q=0.4"})
    assert '<html lang="en" dir="ltr">' in english.text


# --- in the browser --------------------------------------------------------------------


def open_page(browser, url: str, **context):
    ctx, page, errors = watched_page(browser, **context)
    page.goto(url, wait_until="load")
    return ctx, page, errors


@pytest.mark.parametrize("path", ["/collections/hostile/items", "/collections/hostile/items/1"])
def test_hostile_data_runs_no_script_and_the_map_renders(browser, server, path):
    ctx, page, errors = open_page(browser, f"{server.url}{path}?f=html")
    try:
        page.wait_for_selector("#map[data-drawn=true] canvas", timeout=10_000)
        count = 2 if path.endswith("items") else 1
        assert page.locator("#map").get_attribute("data-features") == str(count)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.locator("table", has_text="window.__pwned=1").count() == 1
        assert errors == []
    finally:
        ctx.close()


# Where the page's first geometry lands on the map canvas, in CSS pixels (MapLibre's own
# projection of its coordinates), with the canvas size.
PROJECTED = """() => {
  const doc = JSON.parse(document.getElementById("features").textContent);
  const g = (doc.features ? doc.features[0] : doc).geometry;
  const points = g.type === "Point" ? [g.coordinates] : g.coordinates;
  const xy = points.map((p) => window.pageMap.project(p));
  const canvas = window.pageMap.getCanvas();
  const xs = xy.map((p) => p.x), ys = xy.map((p) => p.y);
  return {w: canvas.clientWidth, h: canvas.clientHeight, minx: Math.min(...xs),
          maxx: Math.max(...xs), miny: Math.min(...ys), maxy: Math.max(...ys)};
}"""


@pytest.mark.parametrize(
    "path",
    [
        "/collections/one/items/1",
        "/collections/one/items",
        "/collections/flat/items/1",
        "/collections/upright/items/1",
    ],
)
def test_a_degenerate_extent_is_drawn_mid_map(browser, server, path, tmp_path):
    ctx, page, errors = open_page(browser, f"{server.url}{path}?f=html")
    try:
        page.wait_for_selector("#map[data-drawn=true]", timeout=10_000)
        page.locator("#map").screenshot(path=str(tmp_path / "map.png"))
        at = page.evaluate(PROJECTED)
        dx = (at["minx"] + at["maxx"]) / 2 - at["w"] / 2
        dy = (at["miny"] + at["maxy"]) / 2 - at["h"] / 2
        assert abs(dx) < 3 and abs(dy) < 3, at
        if "flat" in path:  # a horizontal line still spans the map's width
            assert at["maxx"] - at["minx"] > at["w"] * 0.8, at
        if "upright" in path:
            assert at["maxy"] - at["miny"] > at["h"] * 0.8, at
        assert errors == []
    finally:
        ctx.close()


def test_an_arabic_browser_gets_a_right_to_left_error_page(browser, server):
    ctx, page, errors = open_page(browser, f"{server.url}/collections/nope?f=html", locale="ar-AE")
    try:
        assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
        assert "غير موجود" in page.locator("h1").inner_text()
        detail = page.locator("bdi.detail")
        assert detail.evaluate("el => getComputedStyle(el).direction") == "ltr"
        page.get_by_role("link", name="الصفحة الرئيسية").click()
        page.wait_for_load_state("load")
        assert page.url.rstrip("/").endswith("/?f=html")
        assert errors == [] or all("404" in e for e in errors)
    finally:
        ctx.close()


def test_hostile_data_on_the_web_map_stays_text(browser, server):
    """The layer list and a clicked feature's card hold the markup as text, run nothing."""
    ctx, page, errors = open_page(browser, f"{server.url}/map?layer=hostile")
    try:
        page.wait_for_selector("#webmap[data-layers]", timeout=20_000)
        titles = page.locator("li.layer[data-collection=hostile] .title")
        assert titles.text_content() == HOSTILE
        page.evaluate("window.gisMap.jumpTo({center: [55.4, 25.3], zoom: 16})")
        page.wait_for_function("window.gisMap.loaded() && window.gisMap.areTilesLoaded()")
        page.wait_for_timeout(300)
        at = page.evaluate("window.gisMap.project([55.4, 25.3])")
        page.locator("#webmap canvas").click(position={"x": at["x"], "y": at["y"]})
        page.wait_for_function(
            "text => document.querySelector('#picked td[data-property=name]')?.textContent"
            " === text",
            arg=HOSTILE,
        )
        note = page.locator("#picked td[data-property=note]").text_content()
        assert note == "<!-- <script>"
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert errors == []
    finally:
        ctx.close()

"""Every page in English and Arabic: the browser's language first, then the switch's cookie."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

from gis_service.api.plumbing.html.i18n import COOKIE, STRINGS
from gis_service.app import create_app

PAGES = [
    "/?f=html",
    "/conformance?f=html",
    "/collections?f=html",
    "/collections/districts?f=html",
    "/collections/districts/items?f=html",
    "/collections/districts/items/3?f=html",
    "/collections/districts/queryables?f=html",
    "/map",
    "/api.html",  # the API documentation (Swagger UI inside the bilingual chrome)
    "/collections/nope?f=html",  # an error page too
]


def html_tag(text: str) -> str:
    return re.search(r"<html[^>]*>", text).group(0)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_follows_the_browser_then_the_switch(client, path):
    english = client.get(path, headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert html_tag(english.text) == '<html lang="en" dir="ltr">'
    assert 'id="lang-switch"' in english.text and 'data-lang="ar"' in english.text
    arabic = client.get(path, headers={"Accept-Language": "ar-AE,ar;q=0.9,en;q=0.5"})
    assert html_tag(arabic.text) == '<html lang="ar" dir="rtl">'
    assert STRINGS["ar"]["map"] in arabic.text and 'data-lang="en"' in arabic.text
    chosen = client.get(path, headers={"Accept-Language": "ar", "Cookie": f"{COOKIE}=en"})
    assert html_tag(chosen.text) == '<html lang="en" dir="ltr">'  # the switch wins
    bogus = client.get(path, headers={"Accept-Language": "ar", "Cookie": f"{COOKIE}=xx"})
    assert html_tag(bogus.text) == '<html lang="ar" dir="rtl">'
    assert "Accept-Language" in arabic.headers["vary"] and "Cookie" in arabic.headers["vary"]


def test_both_languages_have_every_string():
    assert set(STRINGS["en"]) == set(STRINGS["ar"])
    assert all(STRINGS["ar"][k] and STRINGS["ar"][k] != STRINGS["en"][k] for k in ("map", "layers"))


def test_arabic_titles_on_arabic_pages(empty_settings):
    from gis_service.ingest import IngestOptions, import_file
    from gis_service.store.factory import open_store

    from ..conftest import DATA

    store = open_store(empty_settings)
    import_file(
        store,
        DATA / "districts.geojson",
        IngestOptions(collection_id="d", title="Districts", title_ar="المناطق"),
    )
    store.close()
    with TestClient(create_app(empty_settings)) as client:
        arabic = client.get("/collections/d?f=html", headers={"Accept-Language": "ar"}).text
        assert re.search(r"<h1[^>]*>المناطق</h1>", arabic)
        english = client.get("/collections/d?f=html", headers={"Accept-Language": "en"}).text
        assert re.search(r"<h1[^>]*>Districts</h1>", english)


def test_the_map_page_holds_no_data_and_names_the_basemap(empty_settings):
    settings = empty_settings.model_copy(
        update={"basemap_url": "http://127.0.0.1:9/{z}/{x}/{y}.png"}
    )
    with TestClient(create_app(settings)) as client:
        page = client.get("/map")
        assert page.status_code == 200
        assert '"basemap":"http://127.0.0.1:9/{z}/{x}/{y}.png"' in page.text
        assert "/static/maplibre/maplibre-gl.js" in page.text
        assert client.get("/static/maplibre/maplibre-gl.js").status_code == 200
        assert client.get("/map?bogus=1").status_code == 400

"""Landing page, conformance, API definition and representations (OGC API Features core)."""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from gis_service.api.features.queryables import FILTER_CONFORMANCE
from gis_service.api.maps.routes import MAPS_CONFORMANCE
from gis_service.api.styles.routes import STYLES_CONFORMANCE
from gis_service.api.tiles.tilesets import TILES_CONFORMANCE
from gis_service.rasters.description import CONFORMANCE as COVERAGES_CONFORMANCE

OAS = "application/vnd.oai.openapi+json;version=3.0"
RESOURCES = [
    "/",
    "/conformance",
    "/collections",
    "/collections/districts",
    "/collections/districts/items",
    "/collections/districts/items/1",
]


def rels(doc: dict) -> dict[str, dict]:
    return {link["rel"]: link for link in doc["links"]}


def test_landing_links(client):
    res = client.get("/")
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/json"
    links = rels(res.json())
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(links)
    assert links["service-desc"]["type"] == OAS
    assert links["data"]["href"].endswith("/collections")
    for link in res.json()["links"]:
        assert link["type"] and link["href"].startswith("http")


def test_conformance_lists_only_what_is_implemented(client):
    classes = client.get("/conformance").json()["conformsTo"]
    # the filtering classes are checked in tests/filter/test_filter.py, tiles' in tests/tiles
    styles = set(STYLES_CONFORMANCE)  # checked in tests/styles
    styles |= set(COVERAGES_CONFORMANCE)  # and the coverages' in tests/rasters
    styles |= set(MAPS_CONFORMANCE)  # map tiles: tests/rasters/test_map_tiles.py
    assert set(classes) - set(FILTER_CONFORMANCE) - set(TILES_CONFORMANCE) - styles == {
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
        "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
        "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
        "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
        "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/core",
        "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/ogc-process-description",
        "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/json",
        "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/job-list",
        "http://www.opengis.net/spec/ogcapi-processes-1/1.0/conf/dismiss",
    }


def test_openapi_document_declares_limit_and_queryables(client):
    res = client.get("/api")
    assert res.status_code == 200
    assert res.headers["content-type"] == OAS
    doc = res.json()
    assert doc["openapi"].startswith("3.0")
    limit = doc["components"]["parameters"]["limit"]
    assert limit["in"] == "query" and limit["style"] == "form" and limit["explode"] is False
    assert limit["schema"] == {"type": "integer", "minimum": 1, "maximum": 10_000, "default": 10}
    params = doc["paths"]["/collections/facilities/items"]["get"]["parameters"]
    refs = {p["$ref"] for p in params if "$ref" in p}
    assert "#/components/parameters/limit" in refs
    assert "#/components/parameters/bbox" in refs
    declared = {p["name"]: p for p in params if "name" in p}
    assert declared["category"]["schema"] == {"type": "string"}
    assert declared["capacity"]["schema"] == {"type": "integer"}
    assert declared["opened"]["schema"] == {"type": "string", "format": "date"}
    for ref in refs:  # every reference resolves
        assert ref.rsplit("/", 1)[1] in doc["components"]["parameters"]


def test_api_documentation_page_is_served_locally(client):
    res = client.get("/api.html")
    assert res.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in res.text
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200


@pytest.mark.parametrize("path", RESOURCES)
def test_html_by_parameter_and_by_accept_header(client, path):
    by_param = client.get(path, params={"f": "html"})
    assert by_param.status_code == 200
    assert by_param.headers["content-type"].startswith("text/html")
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    by_accept = client.get(path, headers={"Accept": browser})
    assert by_accept.headers["content-type"].startswith("text/html")
    as_json = client.get(path, headers={"Accept": "application/json"})
    assert "json" in as_json.headers["content-type"]


@pytest.mark.parametrize("path", ["/", "/collections", "/collections/districts/items"])
def test_head_is_answered(client, path):
    res = client.head(path)
    assert res.status_code == 200
    assert res.content == b""


def test_unknown_format_is_400(client):
    res = client.get("/collections", params={"f": "xml"})
    assert res.status_code == 400
    assert res.json()["parameter"] == "f"


def test_unknown_parameter_on_landing_is_400(client):
    res = client.get("/", params={"colour": "red"})
    assert res.status_code == 400
    assert res.headers["content-type"] == "application/problem+json"
    assert res.json()["parameter"] == "colour"


def test_openapi_document_is_valid_openapi_30(client):
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.validators import OpenAPIV30SpecValidator

    validate(client.get("/api").json(), cls=OpenAPIV30SpecValidator)


def test_openapi_html_representation(client):
    res = client.get("/api", params={"f": "html"})
    assert res.status_code == 200
    assert res.headers["content-type"].startswith("text/html")


def anchors(html: str) -> set[tuple[str, str]]:
    """(rel, href without `f`) of every <a> in the body."""

    found: set[tuple[str, str]] = set()

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "a" and "href" in attrs:
                found.add((attrs.get("rel") or "", without_f(attrs["href"])))

    Collect().feed(html[html.index("<body") :])
    return found


def without_f(href: str) -> str:
    parts = urlsplit(href)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k != "f"]
    return urlunsplit(parts._replace(query=urlencode(query)))


def json_links(doc: dict) -> list[dict]:
    nested = [link for c in doc.get("collections", []) for link in c["links"]]
    return doc["links"] + nested


@pytest.mark.parametrize("path", RESOURCES)
def test_html_pages_carry_every_link_of_the_json(client, path):
    """OGC /req/html/content: all links appear as <a> elements in the HTML body."""
    html = anchors(client.get(path, params={"f": "html"}).text)
    for link in json_links(client.get(path, params={"f": "json"}).json()):
        rel = link["rel"] if link["rel"] not in ("self", "alternate") else None
        hrefs = {h for r, h in html if rel is None or r == rel}
        assert without_f(link["href"]) in hrefs, link

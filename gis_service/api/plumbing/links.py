"""Absolute links, built from the configured base URL or the request's own."""

from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import quote_plus

from fastapi import Request

from ...settings import Settings

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def base_url(request: Request, settings: Settings) -> str:
    return (settings.base_url or str(request.base_url)).rstrip("/")


def link(href: str, rel: str, media_type: str, title: str | None = None) -> dict[str, Any]:
    out = {"href": href, "rel": rel, "type": media_type}
    if title:
        out["title"] = title
    return out


# A page repeats its query in a dozen links (self, alternate, next, prev, each download
# format): each distinct text is quoted once (as urlencode does, character by character).
_quote = lru_cache(maxsize=2048)(quote_plus)


def with_params(url: str, params: dict[str, str]) -> str:
    """`url?` and the parameters, encoded exactly as `urllib.parse.urlencode` does."""
    if not params:
        return url
    return url + "?" + "&".join(f"{_quote(k)}={_quote(v)}" for k, v in params.items())


def self_and_alternate(
    url: str, params: dict[str, str], json_type: str, current_html: bool
) -> list[dict[str, Any]]:
    """`self` is the representation asked for; `alternate` the other one."""
    as_json = with_params(url, {**params, "f": "json"})
    as_html = with_params(url, {**params, "f": "html"})
    json_link = link(
        as_json, "alternate" if current_html else "self", json_type, "this document as JSON"
    )
    html_link = link(
        as_html, "self" if current_html else "alternate", HTML, "this document as HTML"
    )
    return [html_link, json_link] if current_html else [json_link, html_link]

"""Absolute links, built from the configured base URL or the request's own."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from ..settings import Settings

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


def with_params(url: str, params: dict[str, str]) -> str:
    return f"{url}?{urlencode(params)}" if params else url


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

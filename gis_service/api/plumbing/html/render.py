"""Jinja2 rendering of the HTML representation of each resource."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from ..links import base_url
from .i18n import COOKIE, RIGHT_TO_LEFT, STRINGS, page_language

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def maplibre_assets() -> Path:
    """MapLibre GL JS and its CSS, from PyPI's `maplibre` wheel (a dependency): found
    without importing that package, which would pull in its notebook widgets."""
    spec = importlib.util.find_spec("maplibre")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the 'maplibre' package is missing: pip install -e .")
    return Path(next(iter(spec.submodule_search_locations))) / "srcjs"


# Outside strings JSON has none of these characters, so escaping them (as JSON's \uXXXX)
# keeps the value and leaves nothing the HTML parser acts on inside a <script>: no
# `</script>`, no `<!--` (whose `<script` would swallow the page's next script), no
# entity; U+2028/2029 end lines in older JavaScript.
_IN_HTML = [
    ("<", "\\u003c"),
    (">", "\\u003e"),
    ("&", "\\u0026"),
    ("\u2028", "\\u2028"),
    ("\u2029", "\\u2029"),
]


def json_in_html(value: Any, *, encoded: bool = False) -> Markup:
    """JSON placed in a page (a <script> block, an inline script's value), safe there.

    The one way JSON lands in a page. `encoded`: `value` is JSON text already written
    (api/plumbing/encoding.py), as `str` or `bytes`; otherwise it is a value, written here.
    """
    if encoded:
        text = value.decode() if isinstance(value, bytes) else str(value)
    else:
        text = orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()
    for char, escaped in _IN_HTML:
        text = text.replace(char, escaped)
    return Markup(text)


def title_in(info: Any, lang: str) -> str:
    """A collection's title in the page language: its Arabic title on Arabic pages, if any."""
    arabic = getattr(info, "title_ar", None)
    return arabic if lang == "ar" and arabic else info.title


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["json_in_html"] = json_in_html
    env.filters["title_in"] = title_in
    return env


def page_root(request: Request) -> str:
    """The public root of the site's links (GIS_BASE_URL behind a proxy, else the request's)."""
    return base_url(request, request.app.state.settings)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    """A page in the request's language (i18n); caches keep one per language."""
    env: Environment = request.app.state.templates
    settings = request.app.state.settings
    lang = page_language(request)
    html = env.get_template(template).render(
        service_title=settings.title,
        root=page_root(request),
        request=request,
        lang=lang,
        text_dir="rtl" if lang in RIGHT_TO_LEFT else "ltr",
        t=STRINGS[lang],
        lang_cookie=COOKIE,
        basemap=settings.basemap_url,
        **context,
    )
    return HTMLResponse(html, status_code=status_code, headers={"Vary": "Accept-Language, Cookie"})

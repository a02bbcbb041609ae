"""Jinja2 rendering of the HTML representation of each resource."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["tojson_safe"] = lambda value: orjson.dumps(value).decode().replace("</", "<\\/")
    return env


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    env: Environment = request.app.state.templates
    settings = request.app.state.settings
    html = env.get_template(template).render(
        service_title=settings.title,
        root=str(request.base_url).rstrip("/"),
        request=request,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)

"""The Styles part of the OpenAPI document (OGC API - Styles, MapLibre encoding)."""

from __future__ import annotations

from typing import Any

from ...styles.routes import MAPBOX_STYLE
from .parameters import path_parameter, query_parameter
from .sharing import ERRORS

_STYLE_ID = {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"}


_STYLE_BODY = {
    "type": "object",
    "required": ["version", "layers"],
    "properties": {
        "version": {"enum": [8]},
        "name": {"type": "string"},
        "layers": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100,
            "items": {
                "type": "object",
                "required": ["id", "type"],
                "properties": {
                    "id": {"type": "string", "minLength": 1},
                    "type": {"enum": ["fill", "line", "circle", "symbol", "heatmap"]},
                    "minzoom": {"type": "number", "minimum": 0, "maximum": 24},
                    "maxzoom": {"type": "number", "minimum": 0, "maximum": 24},
                    "paint": {"type": "object"},
                    "layout": {"type": "object"},
                },
            },
        },
    },
}


def style_parameters() -> dict[str, Any]:
    return {
        "styleId": path_parameter("styleId", "A style's id (`default` always exists).", _STYLE_ID),
        "f-style": query_parameter(
            "f", "The style encoding (MapLibre, as JSON).", {"enum": ["json", "mapbox"]}
        ),
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _errors(*codes: str) -> dict[str, Any]:
    return {k: v for k, v in ERRORS.items() if k in codes}


def styles_paths() -> dict[str, Any]:
    one = "/collections/{collectionId}/styles/{styleId}"
    ids = [_ref("collectionId"), _ref("styleId")]
    return {
        "/collections/{collectionId}/styles": {
            "get": {
                "operationId": "styles",
                "summary": "A layer's styles",
                "tags": ["Styles"],
                "parameters": [_ref("collectionId"), _ref("f-style")],
                "responses": {
                    "200": {"description": "The styles.", "content": {"application/json": {}}},
                    **_errors("400", "401", "404", "503"),
                },
            }
        },
        one: {
            "get": {
                "operationId": "style",
                "summary": "A style",
                "tags": ["Styles"],
                "parameters": [*ids, _ref("f-style")],
                "responses": {
                    "200": {"description": "The style.", "content": {MAPBOX_STYLE: {}}},
                    **_errors("400", "401", "404", "503"),
                },
            },
            "put": {
                "operationId": "put_style",
                "summary": "Save a style (write access to the collection)",
                "tags": ["Styles"],
                "parameters": ids,
                "requestBody": {
                    "required": True,
                    "content": {MAPBOX_STYLE: {"schema": _STYLE_BODY}},
                },
                "responses": {
                    "201": {"description": "Saved, new."},
                    "204": {"description": "Saved over the previous one."},
                    "413": {"description": "The style is larger than accepted."},
                    **ERRORS,
                },
            },
            "delete": {
                "operationId": "delete_style",
                "summary": "Delete a saved style (`default` returns to the computed one)",
                "tags": ["Styles"],
                "parameters": ids,
                "responses": {"204": {"description": "Deleted."}, **ERRORS},
            },
        },
    }

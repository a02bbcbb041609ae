"""The Maps part of the OpenAPI document (OGC API - Maps map tilesets: PNG and WebP tiles
of raster collections, drawn with a named colormap and a rescale)."""

from __future__ import annotations

from typing import Any

from ....rasters import colormaps
from .parameters import query_parameter
from .sharing import ERRORS

_TILE_PATH = "{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"
_ETAG = {"ETag": {"schema": {"type": "string"}}}
_NUMBER = r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _style() -> list[dict[str, Any]]:
    return [
        query_parameter(
            "colormap",
            "A named colour ramp for one band (`_r` reversed); viridis by default.",
            {"type": "string", "enum": list(colormaps.names())},
        ),
        query_parameter(
            "rescale",
            "`low,high`: the values stretched over the ramp (the band's range by default).",
            {"type": "string", "pattern": f"^{_NUMBER},{_NUMBER}$"},
        ),
        query_parameter(
            "bands",
            "One band (drawn with the colormap) or three (RGB), by name or number.",
            {"type": "string", "maxLength": 1000},
        ),
    ]


def _errors() -> dict[str, Any]:
    return {k: v for k, v in ERRORS.items() if k in ("400", "401", "404", "503")}


def _get(op_id: str, summary: str, params: list[Any], answers: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "tags": ["Maps"],
            "parameters": params,
            "responses": {**answers, **_errors()},
        }
    }


def maps_paths() -> dict[str, Any]:
    col = "/collections/{collectionId}/map/tiles"
    json = {"200": {"description": "", "content": {"application/json": {}}}}
    image = {"schema": {"type": "string", "format": "binary"}}
    tile = {
        "200": {
            "description": "The tile (PNG, or WebP with f=webp or Accept: image/webp).",
            "content": {"image/png": image, "image/webp": image},
            "headers": _ETAG,
        },
        "204": {"description": "No valid cell in this tile.", "headers": _ETAG},
        "304": {"description": "Not modified (If-None-Match matched).", "headers": _ETAG},
    }
    fmt = query_parameter("f", "The tile's encoding.", {"enum": ["png", "webp"]})
    tms = [_ref("tileMatrixSetId")]
    indexes = [_ref("tileMatrix"), _ref("tileRow"), _ref("tileCol")]
    return {
        col: _get(
            "map_tilesets",
            "A raster's map tilesets",
            [_ref("collectionId"), *_style()],
            {"200": {**json["200"], "description": "The tilesets."}},
        ),
        f"{col}/{{tileMatrixSetId}}": _get(
            "map_tileset",
            "A raster's map tileset: metadata and the legend of its style",
            [_ref("collectionId"), *tms, *_style()],
            {"200": {**json["200"], "description": "Tileset metadata."}},
        ),
        f"{col}/{_TILE_PATH}": _get(
            "map_tile", "A map tile", [_ref("collectionId"), *tms, *indexes, *_style(), fmt], tile
        ),
    }

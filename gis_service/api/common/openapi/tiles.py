"""The Tiles part of the OpenAPI document (OGC API - Tiles 1.0, vector tiles)."""

from __future__ import annotations

from typing import Any

from ....tiles.grids import MAX_ZOOM, OFFERED
from ....tiles.metadata import MVT
from .parameters import path_parameter, query_parameter
from .sharing import ERRORS

_INDEX = {"type": "string", "pattern": "^[0-9]{1,9}$"}
_MATRIX = {"type": "string", "pattern": "^([0-9]|1[0-9]|2[0-2])$"}
COLLECTIONS_PATTERN = "^[^,]+(,[^,]+)*$"
_TILE_PATH = "{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"
_ETAG = {"ETag": {"schema": {"type": "string"}}}


def tile_parameters() -> dict[str, Any]:
    return {
        "tileMatrixSetId": path_parameter(
            "tileMatrixSetId", "A tile matrix set offered.", {"enum": list(OFFERED)}
        ),
        "tileMatrix": path_parameter(
            "tileMatrix", f"The tile matrix (zoom level), 0-{MAX_ZOOM}.", _MATRIX
        ),
        "tileRow": path_parameter("tileRow", "The row, from the top (0-based).", _INDEX),
        "tileCol": path_parameter("tileCol", "The column, from the left (0-based).", _INDEX),
        "collections": query_parameter(
            "collections",
            "Only these collections (comma-separated ids), one tile layer each.",
            {"type": "string", "pattern": COLLECTIONS_PATTERN},
        ),
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _get(op_id: str, summary: str, params: list[str], answers: dict[str, Any]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "tags": ["Tiles"],
            "parameters": [_ref(p) for p in params],
            "responses": {**answers, **{k: v for k, v in ERRORS.items() if k != "403"}},
        }
    }


def _json(description: str) -> dict[str, Any]:
    return {"200": {"description": description, "content": {"application/json": {}}}}


def _tile() -> dict[str, Any]:
    return {
        "200": {"description": "The tile.", "content": {MVT: {}}, "headers": _ETAG},
        "204": {"description": "No feature in this tile.", "headers": _ETAG},
        "304": {"description": "Not modified (If-None-Match matched).", "headers": _ETAG},
    }


def tiles_paths(filter_params: list[str]) -> dict[str, Any]:
    """Paths for one collection's and the dataset's tiles; `filter_params` as for items."""
    layer = ["collectionId", "datetime", "properties", *filter_params]
    tms = ["tileMatrixSetId"]
    tile = ["tileMatrixSetId", "tileMatrix", "tileRow", "tileCol"]
    dataset = ["datetime", "collections"]
    col = "/collections/{collectionId}/tiles"
    return {
        "/tileMatrixSets": _get("tile_matrix_sets", "Tile matrix sets", [], _json("The sets.")),
        "/tileMatrixSets/{tileMatrixSetId}": _get(
            "tile_matrix_set", "A tile matrix set", tms, _json("Its definition (TMS 2.0).")
        ),
        col: _get("collection_tilesets", "A layer's tilesets", layer, _json("The tilesets.")),
        f"{col}/{{tileMatrixSetId}}": _get(
            "collection_tileset", "A layer's tileset", layer + tms, _json("Tileset metadata.")
        ),
        f"{col}/{{tileMatrixSetId}}/tilejson.json": _get(
            "collection_tilejson", "A layer's TileJSON", layer + tms, _json("TileJSON 3.0.")
        ),
        f"{col}/{_TILE_PATH}": _get("collection_tile", "A vector tile", layer + tile, _tile()),
        "/tiles": _get("dataset_tilesets", "The dataset's tilesets", dataset, _json("Tilesets.")),
        "/tiles/{tileMatrixSetId}": _get(
            "dataset_tileset", "The dataset's tileset", dataset + tms, _json("Tileset metadata.")
        ),
        "/tiles/{tileMatrixSetId}/tilejson.json": _get(
            "dataset_tilejson", "The dataset's TileJSON", dataset + tms, _json("TileJSON 3.0.")
        ),
        f"/tiles/{_TILE_PATH}": _get(
            "dataset_tile", "A vector tile of every visible layer", dataset + tile, _tile()
        ),
    }

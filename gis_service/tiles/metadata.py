"""Tileset metadata (OGC API - Tiles, 2D Tile Matrix Set and Tileset Metadata 2.0) and
TileJSON 3.0 documents, from collections and grids; links are the caller's to add."""

from __future__ import annotations

from typing import Any

from ..domain.collection import CollectionInfo, PropertyType
from .grids import EXTENT, MAX_ZOOM, Grid
from .index import CELL_BITS
from .render import BOX_UNITS, MAX_FEATURES, MIN_SIZE, POINT_TYPES, POLYGON_TYPES

MVT = "application/vnd.mapbox-vector-tile"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
TILING_SCHEME_REL = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"
TILESETS_REL = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
TILING_SCHEMES_REL = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
#: Geometry dimension (0 points, 1 lines, 2 polygons) of the types collections report.
_DIMENSIONS = {"Point": 0, "MultiPoint": 0, "LineString": 1, "MultiLineString": 1}
_TILEJSON_TYPES = {
    PropertyType.STRING: "String",
    PropertyType.INTEGER: "Number",
    PropertyType.NUMBER: "Number",
    PropertyType.BOOLEAN: "Boolean",
    PropertyType.DATE: "String",
    PropertyType.DATETIME: "String",
}


def limits(grid: Grid, bbox: tuple[float, float, float, float] | None) -> list[dict[str, Any]]:
    """tileMatrixSetLimits: the rows and columns the bbox covers at each tile matrix."""
    if bbox is None:
        return []
    west, south, east, north = bbox
    out = []
    for z in range(MAX_ZOOM + 1):
        top, left = grid.tile_of(z, west, north)
        bottom, right = grid.tile_of(z, east, south)
        out.append(
            {
                "tileMatrix": str(z),
                "minTileRow": top,
                "maxTileRow": bottom,
                "minTileCol": left,
                "maxTileCol": right,
            }
        )
    return out


def generalisation(info: CollectionInfo, zooms: list[int] | None) -> dict[str, Any]:
    """How fuller tiles are thinned, and (once the index exists) which matrices have any."""
    how: dict[str, Any] = {"maxFeaturesPerTile": MAX_FEATURES}
    if info.geometry_type in POINT_TYPES:
        cells = 2**CELL_BITS
        how["points"] = (
            f"a tile with more than {MAX_FEATURES} points holds one point per cell of a"
            f" {cells} x {cells} grid over the tile, at the mean position of the cell's"
            " points; property 'count' is how many, the id one of them"
        )
    else:
        how["geometries"] = (
            f"a tile with more than {MAX_FEATURES} features drops lines and polygons under"
            f" 1/{round(1 / MIN_SIZE)} of the tile across and keeps the {MAX_FEATURES}"
            " largest, with their properties"
        )
        if info.geometry_type in POLYGON_TYPES:
            how["geometries"] += (
                f"; there, polygons under {BOX_UNITS / EXTENT * 256:g} of the tile's 256"
                " display pixels across are drawn as their bounding boxes"
            )
    how["simplification"] = "every tile: clipped to the tile plus 1/64, simplified to 1/1024"
    if zooms is not None:
        how["generalisedTileMatrices"] = [str(z) for z in zooms]
    return how


def layer(info: CollectionInfo) -> dict[str, Any]:
    return {
        "id": info.id,
        "title": info.title,
        "dataType": "vector",
        "geometryDimension": _DIMENSIONS.get(info.geometry_type, 2),
        "minTileMatrix": "0",
        "maxTileMatrix": str(MAX_ZOOM),
        "propertiesSchema": {
            "type": "object",
            "properties": {
                p.name: {"type": _TILEJSON_TYPES[p.type].lower()} for p in info.properties
            },
        },
    }


def tileset(
    title: str, grid: Grid, infos: list[CollectionInfo], bbox: tuple | None
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "title": title,
        "dataType": "vector",
        "crs": grid.crs_uri,
        "tileMatrixSetURI": grid.uri,
        "tileMatrixSetLimits": limits(grid, bbox),
        "layers": [layer(info) for info in infos],
        "mediaTypes": [MVT],
    }
    if bbox is not None:
        doc["boundingBox"] = {
            "lowerLeft": list(bbox[:2]),
            "upperRight": list(bbox[2:]),
            "crs": CRS84,
        }
    return doc


def tilejson(
    name: str, template: str, infos: list[CollectionInfo], bbox: tuple | None
) -> dict[str, Any]:
    """TileJSON 3.0 (WebMercatorQuad tiles: its {z}/{y}/{x} are our matrix/row/column)."""
    doc: dict[str, Any] = {
        "tilejson": "3.0.0",
        "name": name,
        "tiles": [template],
        "minzoom": 0,
        "maxzoom": MAX_ZOOM,
        "vector_layers": [
            {
                "id": info.id,
                "description": info.title,
                "minzoom": 0,
                "maxzoom": MAX_ZOOM,
                "fields": {p.name: _TILEJSON_TYPES[p.type] for p in info.properties},
            }
            for info in infos
        ],
    }
    if bbox is not None:
        doc["bounds"] = list(bbox)
        doc["center"] = [(bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2, 8]
    attributions = sorted({info.attribution for info in infos if info.attribution})
    if attributions:
        doc["attribution"] = "; ".join(attributions)
    return doc


def union(infos: list[CollectionInfo]) -> tuple[float, float, float, float] | None:
    boxes = [info.bbox for info in infos if info.bbox is not None]
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )

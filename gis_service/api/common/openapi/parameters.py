"""The OpenAPI parameters the Features operations name by `$ref`, and the builders of
query and path parameters every part of the document uses."""

from __future__ import annotations

from typing import Any

from ....domain.query import MAX_OFFSET, MAX_SORT_KEYS
from ....exports.formats import FORMATS
from ....settings import Settings
from .schemas import CRS_SCHEMA, DATETIME_PATTERN, ENTITY_ID_SCHEMA, FEATURE_ID_SCHEMA


def query_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
    }


def path_parameter(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": schema,
    }


def sortby_schema(names: list[str] | None = None) -> dict[str, Any]:
    """`sortby` items: a collection's own names when known, else any name."""
    item: dict[str, Any] = {"type": "string", "pattern": "^[+-]?[^,+-][^,]*$"}
    if names is not None:
        item = {"type": "string", "enum": [f"{s}{n}" for n in names for s in ("", "+", "-")]}
    return {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_SORT_KEYS}


def properties_schema(names: list[str] | None = None) -> dict[str, Any]:
    # Any text on the generic operations: `[""]` is sent as `properties=`, which is "none".
    item: dict[str, Any] = {"type": "string"}
    if names is not None:
        item = {"type": "string", "enum": names}
    return {"type": "array", "items": item}  # a name given twice is taken once


SORTBY_TEXT = (
    "Comma-separated properties to sort by, each optionally prefixed with `+` "
    "(ascending, the default) or `-` (descending), each at most once. Nulls come first "
    "ascending; text sorts by code point; the feature id breaks ties."
)
PROPERTIES_TEXT = "Comma-separated properties to include in each feature (empty for none)."


def feature_parameters(settings: Settings) -> dict[str, Any]:
    """The items and search parameters, by the names operations `$ref` them with."""
    return _paging(settings) | _selection() | _search_and_paths()


def _paging(settings: Settings) -> dict[str, Any]:
    return {
        "f": query_parameter(
            "f",
            "The representation: json (GeoJSON/JSON) or html.",
            {"type": "string", "enum": ["json", "html"]},
        ),
        "f-items": query_parameter(
            "f",
            "json (a page of GeoJSON) or html; or a download of every feature the other"
            " parameters select (paging aside; an explicit `limit` caps it): "
            + ", ".join(f"{f.name} ({f.title})" for f in FORMATS.values())
            + ". KML is always CRS84 (no `crs`); FlatGeobuf needs geometry.",
            {"type": "string", "enum": ["json", "html", *FORMATS]},
        ),
        "limit": query_parameter(
            "limit",
            "Page size. Values above the maximum are treated as the maximum.",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": settings.max_limit,
                "default": settings.default_limit,
            },
        ),
    }


def _selection() -> dict[str, Any]:
    return {
        "bbox": query_parameter(
            "bbox",
            "Features intersecting this box: minLon,minLat,maxLon,maxLat in CRS84 "
            "(6 numbers with heights, the minimum height first), or in the axis order of "
            "the CRS `bbox-crs` names. CRS84 longitudes lie in -180..180, latitudes in "
            "-90..90, the lower latitude first; a minimum longitude above the maximum "
            "crosses the antimeridian.",
            {
                "type": "array",
                "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}],
                "items": {"type": "number"},
            },
        ),
        "datetime": query_parameter(
            "datetime",
            "An RFC 3339 date or date-time (no offset: UTC), or an interval `start/end` "
            "with `..` or nothing for an open end (not both), the start not after the end; "
            "matched against the collection's temporal property.",
            {"type": "string", "pattern": DATETIME_PATTERN},
        ),
        "cursor": query_parameter(
            "cursor",
            "Opaque paging position, as issued in next/prev links (not with `offset`).",
            {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
        ),
        "offset": query_parameter(
            "offset",
            "Number of matching features to skip (cursor paging is faster for deep pages).",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        ),
        "crs": query_parameter(
            "crs",
            "The CRS of the geometries in the GeoJSON answer (OGC API Features Part 2), in "
            "its axis order (EPSG:4326 is latitude first): a URI such as "
            "http://www.opengis.net/def/crs/EPSG/0/32640 (or EPSG:32640). The collection's "
            "`crs` list names the usual ones; any two-dimensional EPSG CRS PROJ knows is "
            "accepted. Default CRS84. The HTML map is always drawn in CRS84.",
            CRS_SCHEMA,
        ),
        "bbox-crs": query_parameter(
            "bbox-crs",
            "The CRS of the `bbox` numbers (same identifiers as `crs`); default CRS84. "
            "The box is enclosed by a CRS84 box (edges densified) before the query.",
            CRS_SCHEMA,
        ),
        "sortby": query_parameter("sortby", SORTBY_TEXT, sortby_schema()),
        "properties": query_parameter("properties", PROPERTIES_TEXT, properties_schema()),
        "skipGeometry": query_parameter(
            "skipGeometry",
            "true: leave every feature's geometry out (null).",
            {"type": "boolean", "default": False},
        ),
    }


def _search_and_paths() -> dict[str, Any]:
    return {
        "q": query_parameter(
            "q",
            "Words to find in the datasets' titles (Arabic or English), keywords and "
            "descriptions; all must match; best matches first.",
            {"type": "string"},
        ),
        "keywords": query_parameter(
            "keywords",
            "Datasets having every one of these keywords.",
            {"type": "array", "items": {"type": "string"}},
        ),
        "owner": query_parameter(
            "owner", "Datasets published by this entity (its id).", ENTITY_ID_SCHEMA
        ),
        "collectionId": path_parameter("collectionId", "The collection's id.", {"type": "string"}),
        "featureId": path_parameter(
            "featureId",
            "The feature's id: digits, no leading zero (as the service writes it).",
            FEATURE_ID_SCHEMA,
        ),
    }

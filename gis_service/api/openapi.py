"""The OpenAPI 3.0 document, written out exactly, with each collection's own parameters.

Built by hand rather than generated: clients such as GDAL's OAPIF driver read the
`limit` schema and per-collection parameters from it, so it must say precisely what the
server does (`?name=value` filters are pushed down only for declared parameters).
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..domain.collection import JSON_SCHEMAS, CollectionInfo, PropertyType, equality_parameters
from ..domain.query import MAX_OFFSET, MAX_SORT_KEYS
from ..exports.formats import FORMATS
from ..settings import Settings
from .openapi_filter import FILTER_PARAMETERS, filter_parameters, queryables_paths
from .openapi_schemas import (
    CONTENT_CRS_HEADER,
    CRS_SCHEMA,
    DATETIME_PATTERN,
    ENTITY_ID_SCHEMA,
    ETAG_HEADER,
    FEATURE_ID_SCHEMA,
    RESPONSE_SCHEMAS,
)
from .openapi_sharing import (
    SECURITY_SCHEMES,
    editing_operations,
    new_collection_operation,
    problem,
    sharing_parameters,
    sharing_paths,
)


def property_schema(kind: PropertyType) -> dict[str, str]:
    return dict(JSON_SCHEMAS[kind])


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
        "style": "form",
        "explode": False,
    }


def _sortby(names: list[str] | None = None) -> dict[str, Any]:
    """`sortby` items: a collection's own names when known, else any name."""
    item: dict[str, Any] = {"type": "string", "pattern": "^[+-]?[^,+-][^,]*$"}
    if names is not None:
        item = {"type": "string", "enum": [f"{s}{n}" for n in names for s in ("", "+", "-")]}
    return {"type": "array", "items": item, "minItems": 1, "maxItems": MAX_SORT_KEYS}


def _properties(names: list[str] | None = None) -> dict[str, Any]:
    # Any text on the generic operations: `[""]` is sent as `properties=`, which is "none".
    item: dict[str, Any] = {"type": "string"}
    if names is not None:
        item = {"type": "string", "enum": names}
    return {"type": "array", "items": item}  # a name given twice is taken once


_SORTBY = (
    "Comma-separated properties to sort by, each optionally prefixed with `+` "
    "(ascending, the default) or `-` (descending), each at most once. Nulls come first "
    "ascending; text sorts by code point; the feature id breaks ties."
)
_PROPERTIES = "Comma-separated properties to include in each feature (empty for none)."


def _parameters(settings: Settings) -> dict[str, Any]:
    return {
        "f": _query(
            "f",
            "The representation: json (GeoJSON/JSON) or html.",
            {"type": "string", "enum": ["json", "html"]},
        ),
        "f-items": _query(
            "f",
            "json (a page of GeoJSON) or html; or a download of every feature the other"
            " parameters select (paging aside; an explicit `limit` caps it): "
            + ", ".join(f"{f.name} ({f.title})" for f in FORMATS.values())
            + ". KML is always CRS84 (no `crs`); FlatGeobuf needs geometry.",
            {"type": "string", "enum": ["json", "html", *FORMATS]},
        ),
        "limit": _query(
            "limit",
            "Page size. Values above the maximum are treated as the maximum.",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": settings.max_limit,
                "default": settings.default_limit,
            },
        ),
        "bbox": _query(
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
        "datetime": _query(
            "datetime",
            "An RFC 3339 date or date-time (no offset: UTC), or an interval `start/end` "
            "with `..` or nothing for an open end (not both), the start not after the end; "
            "matched against the collection's temporal property.",
            {"type": "string", "pattern": DATETIME_PATTERN},
        ),
        "cursor": _query(
            "cursor",
            "Opaque paging position, as issued in next/prev links (not with `offset`).",
            {"type": "string", "pattern": "^[A-Za-z0-9_-]+$"},
        ),
        "offset": _query(
            "offset",
            "Number of matching features to skip (cursor paging is faster for deep pages).",
            {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
        ),
        "crs": _query(
            "crs",
            "The CRS of the geometries in the GeoJSON answer (OGC API Features Part 2), in "
            "its axis order (EPSG:4326 is latitude first): a URI such as "
            "http://www.opengis.net/def/crs/EPSG/0/32640 (or EPSG:32640). The collection's "
            "`crs` list names the usual ones; any two-dimensional EPSG CRS PROJ knows is "
            "accepted. Default CRS84. The HTML map is always drawn in CRS84.",
            CRS_SCHEMA,
        ),
        "bbox-crs": _query(
            "bbox-crs",
            "The CRS of the `bbox` numbers (same identifiers as `crs`); default CRS84. "
            "The box is enclosed by a CRS84 box (edges densified) before the query.",
            CRS_SCHEMA,
        ),
        "sortby": _query("sortby", _SORTBY, _sortby()),
        "properties": _query("properties", _PROPERTIES, _properties()),
        "skipGeometry": _query(
            "skipGeometry",
            "true: leave every feature's geometry out (null).",
            {"type": "boolean", "default": False},
        ),
        "q": _query(
            "q",
            "Words to find in the datasets' titles (Arabic or English), keywords and "
            "descriptions; all must match; best matches first.",
            {"type": "string"},
        ),
        "keywords": _query(
            "keywords",
            "Datasets having every one of these keywords.",
            {"type": "array", "items": {"type": "string"}},
        ),
        "owner": _query("owner", "Datasets published by this entity (its id).", ENTITY_ID_SCHEMA),
        "collectionId": {
            "name": "collectionId",
            "in": "path",
            "required": True,
            "description": "The collection's id.",
            "schema": {"type": "string"},
        },
        "featureId": {
            "name": "featureId",
            "in": "path",
            "required": True,
            "description": "The feature's id: digits, no leading zero (as the service writes it).",
            "schema": FEATURE_ID_SCHEMA,
        },
    }


_READY = {
    "type": "object",
    "required": ["status"],
    "properties": {"status": {"type": "string", "enum": ["ready"]}},
}
_ERRORS = {
    "400": problem("A parameter is invalid or unknown."),
    "401": problem("The API key is malformed, unknown or revoked."),
    "404": problem("Not found, or not visible to this caller."),
    "503": problem("The store is busy or the query ran over its time; try again."),
}


def _operation(
    op_id: str, summary: str, tag: str, params: list[dict[str, Any]], ok: str, schema: str
) -> dict[str, Any]:
    media = {
        "featureCollection": "application/geo+json",
        "feature": "application/geo+json",
        "api": "application/vnd.oai.openapi+json;version=3.0",
    }.get(schema, "application/json")
    body = {"type": "object"} if schema == "api" else _ref("schemas", schema)
    responses: dict[str, Any] = {
        "200": {"description": ok, "content": {media: {"schema": body}, "text/html": {}}},
        **_ERRORS,
    }
    if schema == "feature":
        responses["200"]["headers"] = {**ETAG_HEADER, **CONTENT_CRS_HEADER}
        responses["304"] = {
            "description": "Not modified (If-None-Match matched the ETag).",
            "headers": ETAG_HEADER,
        }
    if schema == "featureCollection":  # and downloads, by f=
        responses["200"]["headers"] = dict(CONTENT_CRS_HEADER)
        responses["200"]["content"].update(
            {f.media_type: {} for f in FORMATS.values() if f.media_type != media}
        )
    if schema in ("feature", "featureCollection"):
        responses["410"] = problem("That version's data is no longer kept (see `first`).")
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "tags": [tag],
            "parameters": params,
            "responses": responses,
        }
    }


_ITEMS = [
    "limit",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "cursor",
    "offset",
    "version",
    "sortby",
    "properties",
    "skipGeometry",
    *FILTER_PARAMETERS,
    "f-items",
]
_ITEM = ["featureId", "version", "crs", "properties", "skipGeometry", "f"]
_SEARCH = ["q", "bbox", "keywords", "owner", "f"]


def _collection_params(info: CollectionInfo, names: list[str]) -> list[dict[str, Any]]:
    """The shared parameters, with `sortby` and `properties` naming this collection's own."""
    props = [p.name for p in info.properties]
    own = {
        "sortby": _query("sortby", _SORTBY, _sortby(props)),
        "properties": _query("properties", _PROPERTIES, _properties(props)),
    }
    return [own.get(n) or _ref("parameters", n) for n in names]


def _collection_paths(info: CollectionInfo) -> dict[str, Any]:
    base = f"/collections/{info.id}"
    filters = [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": f"Only features whose `{p.name}` equals this value.",
            "schema": property_schema(p.type),
        }
        for p in equality_parameters(info)
    ]
    safe = "".join(c if c.isalnum() else "_" for c in info.id)
    return {
        base: _operation(
            f"describe_{safe}",
            f"Metadata of '{info.title}'",
            "Collections",
            [_ref("parameters", "f")],
            "The collection's metadata.",
            "collection",
        ),
        f"{base}/items": _operation(
            f"items_{safe}",
            f"Features of '{info.title}'",
            "Features",
            _collection_params(info, _ITEMS) + filters,
            "A page of features.",
            "featureCollection",
        ),
        f"{base}/items/{{featureId}}": _operation(
            f"item_{safe}",
            f"One feature of '{info.title}'",
            "Features",
            _collection_params(info, _ITEM),
            "The feature.",
            "feature",
        ),
    }


def _paths() -> dict[str, Any]:
    f = [_ref("parameters", "f")]
    cid = _ref("parameters", "collectionId")
    return {
        "/": _operation(
            "landing", "Landing page", "Capabilities", f, "Links to the API.", "landing"
        ),
        "/ready": {
            "get": {
                "operationId": "ready",
                "summary": "Readiness: whether the store can answer now",
                "tags": ["Capabilities"],
                "responses": {
                    "200": {
                        "description": "The store answers.",
                        "content": {"application/json": {"schema": _READY}},
                    },
                    "503": _ERRORS["503"],
                },
            }
        },
        "/conformance": _operation(
            "conformance",
            "Conformance classes",
            "Capabilities",
            f,
            "The conformance classes implemented.",
            "conformance",
        ),
        "/api": _operation(
            "api", "This API definition", "Capabilities", f, "The OpenAPI document.", "api"
        ),
        "/collections": _operation(
            "collections",
            "The feature collections, or those a search finds",
            "Collections",
            [_ref("parameters", n) for n in _SEARCH],
            "The collections.",
            "collections",
        ),
        "/collections/{collectionId}": _operation(
            "collection",
            "A collection's metadata",
            "Collections",
            [cid, *f],
            "The collection's metadata.",
            "collection",
        ),
        "/collections/{collectionId}/items": _operation(
            "items",
            "A collection's features",
            "Features",
            [cid] + [_ref("parameters", n) for n in _ITEMS],
            "A page of features.",
            "featureCollection",
        ),
        "/collections/{collectionId}/items/{featureId}": _operation(
            "item",
            "One feature",
            "Features",
            [cid] + [_ref("parameters", n) for n in _ITEM],
            "The feature.",
            "feature",
        ),
    }


def build_openapi(base: str, settings: Settings, infos: list[CollectionInfo]) -> dict[str, Any]:
    paths = _paths()
    paths.update(sharing_paths())
    paths["/collections"]["post"] = new_collection_operation()
    create, changes = editing_operations()
    paths["/collections/{collectionId}/items"]["post"] = create
    paths["/collections/{collectionId}/items/{featureId}"].update(changes)
    for info in infos:
        paths.update(_collection_paths(info))
    paths.update(queryables_paths(infos))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": settings.title,
            "description": settings.description,
            "version": __version__,
        },
        "servers": [{"url": base}],
        "tags": [
            {"name": n} for n in ("Capabilities", "Collections", "Features", "Versions", "Sharing")
        ],
        "security": [{}, {"bearer": []}],  # anonymous, or an API key
        "paths": paths,
        "components": {
            "parameters": _parameters(settings) | sharing_parameters() | filter_parameters(),
            "securitySchemes": SECURITY_SCHEMES,
            "schemas": RESPONSE_SCHEMAS,
        },
    }

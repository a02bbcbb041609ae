"""The OpenAPI 3.0 document, written out exactly, with each collection's own parameters.

Built by hand rather than generated: clients such as GDAL's OAPIF driver read the
`limit` schema and per-collection parameters from it, so it must say precisely what the
server does (`?name=value` filters are pushed down only for declared parameters).
"""

from __future__ import annotations

from typing import Any

from .. import __version__
from ..domain.collection import JSON_SCHEMAS, CollectionInfo, PropertyType, equality_parameters
from ..exports.formats import FORMATS
from ..settings import Settings
from .openapi_filter import FILTER_PARAMETERS, filter_parameters, queryables_paths
from .openapi_sharing import (
    SECURITY_SCHEMES,
    editing_operations,
    new_collection_operation,
    sharing_parameters,
    sharing_paths,
)


def property_schema(kind: PropertyType) -> dict[str, str]:
    return dict(JSON_SCHEMAS[kind])


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _parameters(settings: Settings) -> dict[str, Any]:
    def query(name: str, description: str, schema: dict[str, Any], **extra: Any) -> dict:
        return {
            "name": name,
            "in": "query",
            "required": False,
            "description": description,
            "schema": schema,
            "style": "form",
            "explode": False,
            **extra,
        }

    return {
        "f": query(
            "f",
            "The representation: json (GeoJSON/JSON) or html.",
            {"type": "string", "enum": ["json", "html"]},
        ),
        "f-items": query(
            "f",
            "json (a page of GeoJSON) or html; or a download of every feature the other"
            " parameters select (paging aside; an explicit `limit` caps it): "
            + ", ".join(f"{f.name} ({f.title})" for f in FORMATS.values())
            + ".",
            {"type": "string", "enum": ["json", "html", *FORMATS]},
        ),
        "limit": query(
            "limit",
            "Page size. Values above the maximum are treated as the maximum.",
            {
                "type": "integer",
                "minimum": 1,
                "maximum": settings.max_limit,
                "default": settings.default_limit,
            },
        ),
        "bbox": query(
            "bbox",
            "Features intersecting this box: minLon,minLat,maxLon,maxLat in CRS84 "
            "(6 numbers with heights), or in the axis order of the CRS `bbox-crs` names. "
            "A minimum longitude above the maximum crosses the antimeridian.",
            {
                "type": "array",
                "oneOf": [{"minItems": 4, "maxItems": 4}, {"minItems": 6, "maxItems": 6}],
                "items": {"type": "number"},
            },
        ),
        "datetime": query(
            "datetime",
            "An RFC 3339 instant or interval (`start/end`, `..` or empty for an open end), "
            "matched against the collection's temporal property.",
            {"type": "string"},
        ),
        "cursor": query(
            "cursor", "Opaque paging position, as issued in next/prev links.", {"type": "string"}
        ),
        "offset": query(
            "offset",
            "Number of matching features to skip (cursor paging is faster for deep pages).",
            {"type": "integer", "minimum": 0, "default": 0},
        ),
        "crs": query(
            "crs",
            "The CRS of the geometries in the GeoJSON answer (OGC API Features Part 2), in "
            "its axis order (EPSG:4326 is latitude first): a URI such as "
            "http://www.opengis.net/def/crs/EPSG/0/32640 (or EPSG:32640). The collection's "
            "`crs` list names the usual ones; any 2D EPSG CRS PROJ knows is accepted. "
            "Default CRS84. The HTML map is always drawn in CRS84.",
            {"type": "string", "format": "uri"},
        ),
        "bbox-crs": query(
            "bbox-crs",
            "The CRS of the `bbox` numbers (same identifiers as `crs`); default CRS84. "
            "The box is enclosed by a CRS84 box (edges densified) before the query.",
            {"type": "string", "format": "uri"},
        ),
        "sortby": query(
            "sortby",
            "Comma-separated properties to sort by, each optionally prefixed with `+` "
            "(ascending, the default) or `-` (descending). Nulls come first ascending; text "
            "sorts by code point; the feature id breaks ties.",
            {"type": "array", "items": {"type": "string", "pattern": "^[+-]?.+$"}},
        ),
        "properties": query(
            "properties",
            "Comma-separated properties to include in each feature (empty for none).",
            {"type": "array", "items": {"type": "string"}},
        ),
        "skipGeometry": query(
            "skipGeometry",
            "true: leave every feature's geometry out (null).",
            {"type": "boolean", "default": False},
        ),
        "q": query(
            "q",
            "Words to find in the datasets' titles (Arabic or English), keywords and "
            "descriptions; all must match; best matches first.",
            {"type": "string"},
        ),
        "keywords": query(
            "keywords",
            "Datasets having every one of these keywords.",
            {"type": "array", "items": {"type": "string"}},
        ),
        "owner": query("owner", "Datasets published by this entity (its id).", {"type": "string"}),
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
            "description": "The feature's id.",
            "schema": {"type": "string"},
        },
    }


def _responses(ok: str, media: str) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": _ref("schemas", "problem")}}
    return {
        "200": {"description": ok, "content": {media: {}, "text/html": {}}},
        "400": {"description": "A parameter is invalid or unknown.", "content": problem},
        "401": {"description": "The API key is malformed, unknown or revoked.", "content": problem},
        "404": {"description": "Not found, or not visible to this caller.", "content": problem},
        "500": {"description": "Server error.", "content": problem},
    }


_CONTENT_CRS = {
    "Content-Crs": {
        "schema": {"type": "string"},
        "description": "The CRS of the GeoJSON geometries, as `<uri>` (Part 2).",
    }
}


def _operation(
    op_id: str,
    summary: str,
    tag: str,
    params: list[dict[str, Any]],
    ok: str,
    media: str = "application/json",
) -> dict[str, Any]:
    responses = _responses(ok, media)
    if op_id == "item" or op_id.startswith("item_"):
        responses["200"]["headers"] = {
            "ETag": {"schema": {"type": "string"}, "description": "The feature's entity tag."},
            **_CONTENT_CRS,
        }
        responses["304"] = {"description": "Not modified (If-None-Match matched the ETag)."}
    if op_id == "items" or op_id.startswith("items_"):  # downloads, by f=
        responses["200"]["headers"] = dict(_CONTENT_CRS)
        responses["200"]["content"].update({f.media_type: {} for f in FORMATS.values()})
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
    items_params = [_ref("parameters", n) for n in _ITEMS] + filters
    safe = "".join(c if c.isalnum() else "_" for c in info.id)
    return {
        base: _operation(
            f"describe_{safe}",
            f"Metadata of '{info.title}'",
            "Collections",
            [_ref("parameters", "f")],
            "The collection's metadata.",
        ),
        f"{base}/items": _operation(
            f"items_{safe}",
            f"Features of '{info.title}'",
            "Features",
            items_params,
            "A page of features.",
            "application/geo+json",
        ),
        f"{base}/items/{{featureId}}": _operation(
            f"item_{safe}",
            f"One feature of '{info.title}'",
            "Features",
            [_ref("parameters", n) for n in _ITEM],
            "The feature.",
            "application/geo+json",
        ),
    }


def build_openapi(base: str, settings: Settings, infos: list[CollectionInfo]) -> dict[str, Any]:
    f = [_ref("parameters", "f")]
    paths: dict[str, Any] = {
        "/": _operation("landing", "Landing page", "Capabilities", f, "Links to the API."),
        "/conformance": _operation(
            "conformance",
            "Conformance classes",
            "Capabilities",
            f,
            "The conformance classes implemented.",
        ),
        "/api": _operation(
            "api",
            "This API definition",
            "Capabilities",
            f,
            "The OpenAPI document.",
            "application/vnd.oai.openapi+json;version=3.0",
        ),
        "/collections": _operation(
            "collections",
            "The feature collections, or those a search finds",
            "Collections",
            [_ref("parameters", n) for n in _SEARCH],
            "The collections.",
        ),
        "/collections/{collectionId}": _operation(
            "collection",
            "A collection's metadata",
            "Collections",
            [_ref("parameters", "collectionId"), *f],
            "The collection's metadata.",
        ),
        "/collections/{collectionId}/items": _operation(
            "items",
            "A collection's features",
            "Features",
            [_ref("parameters", "collectionId")] + [_ref("parameters", n) for n in _ITEMS],
            "A page of features.",
            "application/geo+json",
        ),
        "/collections/{collectionId}/items/{featureId}": _operation(
            "item",
            "One feature",
            "Features",
            [_ref("parameters", "collectionId")] + [_ref("parameters", n) for n in _ITEM],
            "The feature.",
            "application/geo+json",
        ),
    }
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
            "schemas": {
                "problem": {
                    "type": "object",
                    "description": "RFC 9457 problem details.",
                    "properties": {
                        k: {"type": "string"}
                        for k in ("type", "title", "detail", "instance", "parameter")
                    }
                    | {"status": {"type": "integer"}},
                },
            },
        },
    }

"""The OpenAPI 3.0 document, written out exactly, with each collection's own parameters.

Built by hand rather than generated: clients such as GDAL's OAPIF driver read the
`limit` schema and per-collection parameters from it, so it must say precisely what the
server does (`?name=value` filters are pushed down only for declared parameters).
"""

from __future__ import annotations

from typing import Any

from .... import __version__
from ....domain.collection import JSON_SCHEMAS, CollectionInfo, PropertyType, equality_parameters
from ....exports.formats import FORMATS
from ....settings import Settings
from .coverages import coverages_paths
from .filtering import FILTER_PARAMETERS, filter_parameters, queryables_paths
from .maps import maps_paths
from .parameters import (
    PROPERTIES_TEXT,
    SORTBY_TEXT,
    feature_parameters,
    properties_schema,
    query_parameter,
    sortby_schema,
)
from .processes import processes_paths
from .schemas import CONTENT_CRS_HEADER, ETAG_HEADER, RESPONSE_SCHEMAS
from .sharing import (
    SECURITY_SCHEMES,
    editing_operations,
    new_collection_operation,
    problem,
    sharing_parameters,
    sharing_paths,
)
from .styles import style_parameters, styles_paths
from .tiles import tile_parameters, tiles_paths


def property_schema(kind: PropertyType) -> dict[str, str]:
    return dict(JSON_SCHEMAS[kind])


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


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
        "sortby": query_parameter("sortby", SORTBY_TEXT, sortby_schema(props)),
        "properties": query_parameter("properties", PROPERTIES_TEXT, properties_schema(props)),
    }
    return [own.get(n) or _ref("parameters", n) for n in names]


def _collection_paths(info: CollectionInfo) -> dict[str, Any]:
    base = f"/collections/{info.id}"
    filters = [
        query_parameter(
            p.name, f"Only features whose `{p.name}` equals this value.", property_schema(p.type)
        )
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


TAGS = (
    "Capabilities",
    "Collections",
    "Features",
    "Versions",
    "Sharing",
    "Tiles",
    "Styles",
    "Processes",
    "Coverages",
    "Maps",
)


def build_openapi(base: str, settings: Settings, infos: list[CollectionInfo]) -> dict[str, Any]:
    paths = _paths()
    paths.update(sharing_paths())
    paths["/collections"]["post"] = new_collection_operation()
    create, changes = editing_operations()
    paths["/collections/{collectionId}/items"]["post"] = create
    paths["/collections/{collectionId}/items/{featureId}"].update(changes)
    features = [info for info in infos if not info.is_coverage]
    for info in features:
        paths.update(_collection_paths(info))
    paths.update(queryables_paths(features))
    paths.update(tiles_paths(FILTER_PARAMETERS))
    paths.update(processes_paths())
    paths.update(styles_paths())
    paths.update(coverages_paths())
    paths.update(maps_paths())
    return {
        "openapi": "3.0.3",
        "info": {
            "title": settings.title,
            "description": settings.description,
            "version": __version__,
        },
        "servers": [{"url": base}],
        "tags": [{"name": n} for n in TAGS],
        "security": [{}, {"bearer": []}],  # anonymous, or an API key
        "paths": paths,
        "components": {
            "parameters": feature_parameters(settings)
            | sharing_parameters()
            | filter_parameters()
            | tile_parameters()
            | style_parameters(),
            "securitySchemes": SECURITY_SCHEMES,
            "schemas": RESPONSE_SCHEMAS,
        },
    }

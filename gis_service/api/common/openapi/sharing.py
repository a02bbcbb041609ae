"""The sharing part of the OpenAPI document: access settings, entities, API keys, uploads,
versions and editing (Part 4)."""

from __future__ import annotations

from typing import Any

from .parameters import path_parameter, query_parameter
from .schemas import (
    COLLECTION_ID_SCHEMA,
    CRS_HEADER_SCHEMA,
    DATETIME_PATTERN,
    ENTITY_ID_SCHEMA,
    ETAG_HEADER,
    GEOMETRY_BODY,
    JOB_ID_SCHEMA,
    KEY_ID_SCHEMA,
    PROPERTIES_BODY,
    SHARING_ANSWERS,
    VERSION_SCHEMA,
    location_header,
)


def problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    """An error answer: problem+json, or an HTML page for a browser (f=html or Accept)."""
    answer: dict[str, Any] = {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/problem"}},
            "text/html": {},
        },
    }
    if headers:
        answer["headers"] = headers
    return answer


_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer", "minimum": 0}}}
ERRORS = {
    "400": problem("The body or a parameter is invalid."),
    "401": problem(
        "No API key where one is needed, or it is malformed, unknown or revoked.",
        {"WWW-Authenticate": {"schema": {"type": "string"}}},
    ),
    "403": problem("The caller may see this but not do this."),
    "404": problem("Not found, or not visible to this caller."),
    "503": problem("The store is busy or cannot be reached now; try again.", _RETRY_AFTER),
}

TOO_LARGE = problem("The body is larger than this endpoint accepts.")
_VISIBILITY = ["private", "entities", "authenticated", "public"]

ACCESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["visibility"],
    "additionalProperties": False,
    "properties": {
        "visibility": {"type": "string", "enum": _VISIBILITY},
        "entities": {
            "type": "object",
            "description": "Entity id (one that exists) -> grant.",
            "additionalProperties": {"type": "string", "enum": ["read", "write"]},
        },
    },
}


def _op(op_id: str, summary: str, ok: str, params: list[str], **extra: Any) -> dict[str, Any]:
    schema = SHARING_ANSWERS.get(op_id, {"type": "object"})
    answer: dict[str, Any] = {
        "description": summary,
        "content": {"application/json": {"schema": schema}},
    }
    if ok == "204":
        answer = {"description": summary}
    responses = {ok: answer, **ERRORS}
    if "requestBody" in extra:
        responses["413"] = TOO_LARGE
    return {
        "operationId": op_id,
        "summary": summary,
        "tags": ["Sharing"],
        "parameters": [{"$ref": f"#/components/parameters/{p}"} for p in params],
        "security": [{"bearer": []}],
        "responses": responses,
        **extra,
    }


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


UPLOAD_FIELDS: dict[str, Any] = {
    "file": {
        "type": "string",
        "format": "binary",
        "description": "GeoJSON, GeoPackage, zipped Shapefile, CSV, KML/KMZ, FlatGeobuf "
        "or GeoParquet; the name's suffix says which.",
    },
    "layer": {"type": "string", "description": "Layer of a multi-layer file."},
    "temporal": {"type": "string", "description": "FIELD or START,END for datetime queries."},
    "encoding": {
        "type": "string",
        "description": "Text encoding of a file that does not say (Shapefile, CSV), e.g. cp1256.",
    },
}
NEW_COLLECTION_FIELDS: dict[str, Any] = {
    "id": COLLECTION_ID_SCHEMA,
    **{
        name: {"type": "string"}
        for name in ("title", "title_ar", "description", "license", "attribution")
    },
    "keywords": {"type": "string", "description": "Comma-separated."},
    "visibility": {"type": "string", "enum": _VISIBILITY, "default": "private"},
    **UPLOAD_FIELDS,
}


def _form(fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "required": required,
                        "properties": fields,
                        "additionalProperties": False,
                    }
                }
            },
        }
    }


def _accepted(op: dict[str, Any]) -> dict[str, Any]:
    op["responses"]["202"] = {
        "description": "A large file: imported as a job (see Location).",
        "headers": location_header("The job."),
        "content": {"application/json": {"schema": SHARING_ANSWERS["job"]}},
    }
    op["responses"]["409"] = problem("The collection exists already, or is being written.")
    op["responses"]["413"] = problem("The upload is larger than allowed.")
    return op


def _audit_params() -> list[dict[str, Any]]:
    return [
        {
            "name": n,
            "in": "query",
            "required": False,
            "schema": s,
            "style": "form",
            "explode": False,
        }
        for n, s in (
            ("collection", {"type": "string"}),
            ("datetime", {"type": "string", "pattern": DATETIME_PATTERN}),
        )
    ]


def _versions_paths() -> dict[str, Any]:
    anyone = {"tags": ["Versions"], "security": [{}, {"bearer": []}]}
    restore = _op(
        "restore",
        "Make a version current again, as a new version (writers).",
        "200",
        ["collectionId", "versionNumber"],
    )
    restore["responses"]["409"] = problem("The collection is being written; try again.")
    restore["responses"]["410"] = problem("That version's data is no longer kept.")
    changes = _op("changes", "Features inserted, updated and deleted since a version.", "200", [])
    changes["parameters"] = [
        {"$ref": "#/components/parameters/collectionId"},
        {"name": "since", "in": "query", "required": True, "schema": VERSION_SCHEMA},
    ]
    changes["responses"]["410"] = problem("That version's data is no longer kept.")
    versions = _op(
        "versions",
        "The collection's versions: who made each, how, when.",
        "200",
        ["collectionId"],
    )
    return {
        "/collections/{collectionId}/versions": {"get": {**versions, **anyone}},
        "/collections/{collectionId}/versions/{version}/restore": {
            "post": {**restore, "tags": ["Versions"]}
        },
        "/collections/{collectionId}/changes": {"get": {**changes, **anyone}},
    }


def sharing_paths() -> dict[str, Any]:
    key_body = {
        "type": "object",
        "required": ["role"],
        "additionalProperties": False,
        "properties": {"role": {"type": "string", "enum": ["admin", "editor", "viewer"]}},
    }
    audit = _op("audit", "Reads and writes of your entity's collections (its admins).", "200", [])
    audit["parameters"] = [*_audit_params(), {"$ref": "#/components/parameters/limit"}]
    usage = _op("usage", "Data exchanges per collection, consuming entity and day.", "200", [])
    usage["parameters"] = _audit_params()
    data = {
        method: _accepted(
            _op(op_id, summary, "200", ["collectionId"], **_form(UPLOAD_FIELDS, ["file"]))
        )
        for method, op_id, summary in (
            ("put", "replaceData", "Replace the data (a new generation)."),
            ("post", "appendData", "Append features (a new generation)."),
        )
    }
    issue = _op(
        "issueKey",
        "Issue a key; the response shows it once.",
        "201",
        ["entityId"],
        **_body(key_body),
    )
    return {
        "/collections/{collectionId}/data": data,
        **_versions_paths(),
        "/audit": {"get": audit},
        "/audit/usage": {"get": usage},
        "/jobs/{jobId}": {
            "get": _op("job", "A background import's state and report.", "200", ["jobId"])
        },
        "/collections/{collectionId}/access": {
            "get": _op(
                "getAccess",
                "The collection's sharing settings (owner's members).",
                "200",
                ["collectionId"],
            ),
            "put": _op(
                "putAccess",
                "Change who may see the collection (owner's admins).",
                "200",
                ["collectionId"],
                **_body(ACCESS_SCHEMA),
            ),
        },
        "/entities": {"get": {**_op("entities", "The entities.", "200", []), "security": []}},
        "/entities/{entityId}/keys": {
            "get": _op(
                "keys", "The entity's keys, without secrets (its admins).", "200", ["entityId"]
            ),
            "post": issue,
        },
        "/entities/{entityId}/keys/{keyId}": {
            "delete": _op("revokeKey", "Revoke a key.", "204", ["entityId", "keyId"]),
        },
    }


def sharing_parameters() -> dict[str, Any]:
    path = path_parameter
    return {
        "version": query_parameter(
            "version", "Read this version of the collection (default: current).", VERSION_SCHEMA
        ),
        "versionNumber": path("version", "A version number.", VERSION_SCHEMA),
        "jobId": path("jobId", "The job's id.", JOB_ID_SCHEMA),
        "entityId": path("entityId", "The entity's id.", ENTITY_ID_SCHEMA),
        "keyId": path("keyId", "The key's id (the part after gis_).", KEY_ID_SCHEMA),
    }


SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer gis_...`.",
    }
}


def new_collection_operation() -> dict[str, Any]:
    operation = _accepted(
        _op(
            "createCollection",
            "Publish a new collection from a file (editors and admins; owned by their entity).",
            "201",
            [],
            **_form(NEW_COLLECTION_FIELDS, ["id", "file"]),
        )
    )
    operation["responses"]["201"]["headers"] = location_header("The new collection.")
    return operation


def _editing_headers() -> tuple[dict[str, Any], dict[str, Any]]:
    if_match = {
        "name": "If-Match",
        "in": "header",
        "required": True,
        "schema": {"type": "string", "minLength": 1},
        "description": "The feature's ETag (`*` for any).",
    }
    content_crs = {
        "name": "Content-Crs",
        "in": "header",
        "required": False,
        "schema": CRS_HEADER_SCHEMA,
        "description": "The CRS of the body's geometry and of the ETags, as `<uri>` "
        "(OGC API Features Part 2; default CRS84). EPSG:4326 is latitude first.",
    }
    return if_match, content_crs


def editing_operations() -> tuple[dict[str, Any], dict[str, Any]]:
    """Part 4 operations: (on .../items, on .../items/{featureId})."""
    feature = {
        "type": "object",
        "description": "A GeoJSON Feature.",
        "required": ["type"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "geometry": GEOMETRY_BODY,
            "properties": PROPERTIES_BODY,
        },
    }
    patch = {
        "type": "object",
        "description": "A JSON merge patch of a Feature: given properties replace (null "
        "clears), a given geometry replaces.",
        "properties": {"geometry": GEOMETRY_BODY, "properties": PROPERTIES_BODY},
    }
    if_match, content_crs = _editing_headers()
    written = {**ETAG_HEADER, **location_header("The feature.")}

    def op(op_id: str, summary: str, ok: str, body: dict | None) -> dict[str, Any]:
        operation = _op(op_id, summary, ok, ["collectionId"])
        operation["responses"]["409"] = problem("The collection is being written; try again.")
        if ok != "204":
            operation["responses"][ok] = {"description": summary, "headers": written}
        if body is not None:
            operation["parameters"] = [*operation["parameters"], content_crs]
            operation["requestBody"] = {
                "required": True,
                "content": {
                    "application/geo+json": {"schema": body},
                    "application/json": {"schema": body},
                },
            }
            operation["responses"]["413"] = TOO_LARGE
        return operation

    create = op(
        "createFeature", "Add a feature (editors of the owner or a write grant).", "201", feature
    )
    changes: dict[str, Any] = {}
    for method, op_id, summary, ok, body in (
        ("put", "replaceFeature", "Replace a feature.", "200", feature),
        ("patch", "updateFeature", "Update a feature (JSON merge patch).", "200", patch),
        ("delete", "deleteFeature", "Delete a feature.", "204", None),
    ):
        operation = op(op_id, summary, ok, body)
        operation["parameters"] = [
            *operation["parameters"],
            {"$ref": "#/components/parameters/featureId"},
            if_match,
        ]
        operation["responses"]["412"] = problem("The If-Match ETag is not the feature's.")
        operation["responses"]["428"] = problem("If-Match is required.")
        changes[method] = operation
    return create, changes

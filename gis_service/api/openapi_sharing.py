"""The sharing part of the OpenAPI document: access settings, entities and API keys."""

from __future__ import annotations

from typing import Any


def _problem(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/problem"}}
        },
    }


ERRORS = {
    "400": _problem("The body or a parameter is invalid."),
    "401": _problem("The API key is malformed, unknown or revoked."),
    "403": _problem("The caller may see this but not do this."),
    "404": _problem("Not found, or not visible to this caller."),
}

TOO_LARGE = _problem("The body is larger than this endpoint accepts.")

ACCESS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["visibility"],
    "additionalProperties": False,
    "properties": {
        "visibility": {
            "type": "string",
            "enum": ["private", "entities", "authenticated", "public"],
        },
        "entities": {
            "type": "object",
            "description": "Entity id -> grant.",
            "additionalProperties": {"type": "string", "enum": ["read", "write"]},
        },
    },
}


def _op(op_id: str, summary: str, ok: str, params: list[str], **extra: Any) -> dict[str, Any]:
    responses = {ok: {"description": summary, "content": {"application/json": {}}}, **ERRORS}
    if ok == "204":
        responses[ok] = {"description": summary}
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
}
NEW_COLLECTION_FIELDS: dict[str, Any] = {
    "id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$"},
    **{
        name: {"type": "string"}
        for name in ("title", "title_ar", "description", "license", "attribution")
    },
    "keywords": {"type": "string", "description": "Comma-separated."},
    "visibility": {
        "type": "string",
        "enum": ["private", "entities", "authenticated", "public"],
        "default": "private",
    },
    **UPLOAD_FIELDS,
}


def _form(fields: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {
                    "schema": {"type": "object", "required": required, "properties": fields}
                }
            },
        }
    }


def _accepted(op: dict[str, Any]) -> dict[str, Any]:
    op["responses"]["202"] = {"description": "A large file: imported as a job (see Location)."}
    op["responses"]["409"] = _problem("The collection exists already.")
    op["responses"]["413"] = _problem("The upload is larger than allowed.")
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
        for n, s in (("collection", {"type": "string"}), ("datetime", {"type": "string"}))
    ]


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
    return {
        "/collections/{collectionId}/data": {
            "put": _accepted(
                _op(
                    "replaceData",
                    "Replace the data (a new generation).",
                    "200",
                    ["collectionId"],
                    **_form(UPLOAD_FIELDS, ["file"]),
                )
            ),
            "post": _accepted(
                _op(
                    "appendData",
                    "Append features (a new generation).",
                    "200",
                    ["collectionId"],
                    **_form(UPLOAD_FIELDS, ["file"]),
                )
            ),
        },
        "/collections/{collectionId}/versions": {
            "get": {
                **_op(
                    "versions",
                    "The collection's versions: who made each, how, when.",
                    "200",
                    ["collectionId"],
                ),
                "tags": ["Versions"],
                "security": [{}, {"bearer": []}],
            }
        },
        "/collections/{collectionId}/versions/{version}/restore": {
            "post": {
                **_op(
                    "restore",
                    "Make a version current again, as a new version (writers).",
                    "200",
                    ["collectionId", "versionNumber"],
                ),
                "tags": ["Versions"],
            }
        },
        "/collections/{collectionId}/changes": {
            "get": {
                **_op(
                    "changes",
                    "Features inserted, updated and deleted since a version.",
                    "200",
                    ["collectionId"],
                ),
                "tags": ["Versions"],
                "security": [{}, {"bearer": []}],
                "parameters": [
                    {"$ref": "#/components/parameters/collectionId"},
                    {
                        "name": "since",
                        "in": "query",
                        "required": True,
                        "schema": {"type": "integer", "minimum": 1},
                    },
                ],
            }
        },
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
            "post": _op(
                "issueKey",
                "Issue a key; the response shows it once.",
                "201",
                ["entityId"],
                **_body(key_body),
            ),
        },
        "/entities/{entityId}/keys/{keyId}": {
            "delete": _op("revokeKey", "Revoke a key.", "204", ["entityId", "keyId"]),
        },
    }


def sharing_parameters() -> dict[str, Any]:
    def path(name: str, description: str) -> dict[str, Any]:
        return {
            "name": name,
            "in": "path",
            "required": True,
            "description": description,
            "schema": {"type": "string"},
        }

    return {
        "version": {
            "name": "version",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "schema": {"type": "integer", "minimum": 1},
            "description": "Read this version of the collection (default: current).",
        },
        "versionNumber": {
            **path("version", "A version number."),
            "schema": {"type": "integer", "minimum": 1},
        },
        "jobId": path("jobId", "The job's id."),
        "entityId": path("entityId", "The entity's id."),
        "keyId": path("keyId", "The key's id (the part after gis_)."),
    }


SECURITY_SCHEMES = {
    "bearer": {
        "type": "http",
        "scheme": "bearer",
        "description": "An API key: `Authorization: Bearer gis_...`.",
    }
}


def new_collection_operation() -> dict[str, Any]:
    return _accepted(
        _op(
            "createCollection",
            "Publish a new collection from a file (editors and admins; owned by their entity).",
            "201",
            [],
            **_form(NEW_COLLECTION_FIELDS, ["id", "file"]),
        )
    )


def editing_operations() -> tuple[dict[str, Any], dict[str, Any]]:
    """Part 4 operations: (on .../items, on .../items/{featureId})."""
    feature = {
        "type": "object",
        "description": "A GeoJSON Feature.",
        "required": ["type"],
        "properties": {"type": {"enum": ["Feature"]}},
    }
    if_match = {
        "name": "If-Match",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "The feature's ETag.",
    }
    content_crs = {
        "name": "Content-Crs",
        "in": "header",
        "required": False,
        "schema": {"type": "string"},
        "description": "The CRS of the body's geometry and of the ETags, as `<uri>` "
        "(OGC API Features Part 2; default CRS84). EPSG:4326 is latitude first.",
    }

    def op(op_id: str, summary: str, ok: str, body: dict | None) -> dict[str, Any]:
        operation = _op(op_id, summary, ok, ["collectionId"])
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
        (
            "patch",
            "updateFeature",
            "Update a feature (JSON merge patch).",
            "200",
            {"type": "object"},
        ),
        ("delete", "deleteFeature", "Delete a feature.", "204", None),
    ):
        operation = op(op_id, summary, ok, body)
        operation["parameters"] = [
            *operation["parameters"],
            {"$ref": "#/components/parameters/featureId"},
            if_match,
        ]
        operation["responses"]["412"] = _problem("The If-Match ETag is stale.")
        operation["responses"]["428"] = _problem("If-Match is required.")
        changes[method] = operation
    return create, changes

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


def sharing_paths() -> dict[str, Any]:
    key_body = {
        "type": "object",
        "required": ["role"],
        "additionalProperties": False,
        "properties": {"role": {"type": "string", "enum": ["admin", "editor", "viewer"]}},
    }
    return {
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

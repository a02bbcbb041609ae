"""The exact value forms of the OpenAPI document: patterns, headers, response schemas.

Each pattern says what the server takes (tests/plumbing/test_fuzz_api.py holds the server to it both
ways: a value matching it is accepted, one not matching it refused). What a pattern cannot
say (an interval's start before its end, a box's corners in order, an EPSG code PROJ knows)
the descriptions say, and the server answers 400 for.
"""

from __future__ import annotations

from typing import Any

from ....domain.access import ENTITY_ID

_YEAR = "(?:000[1-9]|00[1-9][0-9]|0[1-9][0-9]{2}|[1-9][0-9]{3})"
_MONTH_DAY = (
    "(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    "|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    "|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_LEAP_DAY = (
    "(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)-02-29"
)
_DATE = f"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_DAY})"
# RFC 3339 time; the offset may be left out (UTC), seconds too; no leap second (:60).
_TIME = (
    "[Tt](?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:[.][0-9]+)?)?"
    "(?:[Zz]|[+-](?:[01][0-9]|2[0-3]):[0-5][0-9])?"
)
_INSTANT = f"{_DATE}(?:{_TIME})?"
#: An instant (a bare date is its whole day) or an interval with at least one closed end.
DATETIME_PATTERN = f"^(?:{_INSTANT}|{_INSTANT}/(?:{_INSTANT}|[.][.])?|(?:[.][.])?/{_INSTANT})$"
_CODE = "[1-9][0-9]{0,5}"
_CRS = (
    f"https?://www[.]opengis[.]net/def/crs/(?:EPSG/0/{_CODE}|OGC/1[.]3/CRS84)"
    f"|EPSG:{_CODE}|\\[EPSG:{_CODE}\\]|urn:ogc:def:crs:(?:EPSG::{_CODE}|OGC:1[.]3:CRS84)"
)
CRS_SCHEMA: dict[str, Any] = {"type": "string", "pattern": f"^(?:{_CRS})$"}
CRS_HEADER_SCHEMA: dict[str, Any] = {"type": "string", "pattern": f"^<(?:{_CRS})>$"}
#: Feature ids as the service writes them: ASCII digits, no leading zero, 64-bit.
FEATURE_ID_SCHEMA: dict[str, Any] = {"type": "string", "pattern": "^(?:0|[1-9][0-9]{0,18})$"}
#: The catalog keeps version numbers in a PostgreSQL `integer`.
VERSION_SCHEMA: dict[str, Any] = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}
ENTITY_ID_SCHEMA: dict[str, Any] = {"type": "string", "pattern": ENTITY_ID.pattern}
KEY_ID_SCHEMA: dict[str, Any] = {"type": "string", "pattern": "^[0-9a-f]{12}$"}
JOB_ID_SCHEMA: dict[str, Any] = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
COLLECTION_ID_SCHEMA: dict[str, Any] = {
    "type": "string",
    "pattern": "^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$",
}
_ETAG = '^"[0-9a-f]{32}"$'
ETAG_HEADER: dict[str, Any] = {
    "ETag": {
        "schema": {"type": "string", "pattern": _ETAG},
        "description": "The feature's strong entity tag (of its GeoJSON in that CRS).",
    }
}
CONTENT_CRS_HEADER: dict[str, Any] = {
    "Content-Crs": {
        "schema": {
            "type": "string",
            "pattern": "^<http://www[.]opengis[.]net/def/crs/"
            "(?:EPSG/0/[1-9][0-9]*|OGC/1[.]3/CRS84)>$",
        },
        "description": "The CRS of the GeoJSON geometries, as `<uri>` (Part 2).",
    }
}

#: Request bodies (Part 4): what one document for every collection can say of a feature.
_GEOMETRY_TYPES = [
    "Point",
    "MultiPoint",
    "LineString",
    "MultiLineString",
    "Polygon",
    "MultiPolygon",
    "GeometryCollection",
]
GEOMETRY_BODY: dict[str, Any] = {
    "type": "object",
    "nullable": True,
    "required": ["type"],
    "description": "A GeoJSON geometry (valid: closed rings, coordinates in the CRS's area).",
    "properties": {"type": {"type": "string", "enum": _GEOMETRY_TYPES}},
}
PROPERTIES_BODY: dict[str, Any] = {
    "type": "object",
    "nullable": True,
    "description": "The collection's own properties (see its queryables), each of its type.",
}


def location_header(what: str) -> dict[str, Any]:
    return {"Location": {"schema": {"type": "string", "format": "uri"}, "description": what}}


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details.",
    "required": ["type", "title", "status", "detail", "instance"],
    "properties": {
        **{k: {"type": "string"} for k in ("type", "title", "detail", "instance", "parameter")},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
    },
}
_LINK = {
    "type": "object",
    "required": ["href", "rel"],
    "properties": {k: {"type": "string"} for k in ("href", "rel", "type", "title")},
}
_LINKS = {"type": "array", "items": {"$ref": "#/components/schemas/link"}}
_STRING_OR_NULL = {"type": "string", "nullable": True}
_FEATURE = {
    "type": "object",
    "required": ["type", "id", "geometry", "properties"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "id": {"type": "integer"},
        "geometry": {"type": "object", "nullable": True, "required": ["type"]},
        "properties": {"type": "object", "nullable": True},
        "links": _LINKS,
    },
}
_COLLECTION = {
    "type": "object",
    "required": ["id", "itemType", "links", "crs", "storageCrs"],
    "properties": {
        "id": {"type": "string"},
        "title": _STRING_OR_NULL,
        "description": _STRING_OR_NULL,
        "itemType": {"type": "string", "enum": ["feature"]},
        "crs": {"type": "array", "items": {"type": "string"}},
        "storageCrs": {"type": "string"},
        "links": _LINKS,
        "extent": {"type": "object"},
        "keywords": {"type": "array", "items": {"type": "string"}},
        "itemCount": {"type": "integer", "minimum": 0},
        "owner": {"type": "string"},
        "visibility": {
            "type": "string",
            "enum": ["private", "entities", "authenticated", "public"],
        },
    },
}
RESPONSE_SCHEMAS: dict[str, Any] = {
    "problem": PROBLEM_SCHEMA,
    "link": _LINK,
    "landing": {
        "type": "object",
        "required": ["links"],
        "properties": {
            "title": {"type": "string"},
            "description": _STRING_OR_NULL,
            "links": _LINKS,
        },
    },
    "conformance": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {
            "conformsTo": {"type": "array", "items": {"type": "string"}},
            "links": _LINKS,
        },
    },
    "collection": _COLLECTION,
    "collections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": _LINKS,
            "numberReturned": {"type": "integer", "minimum": 0},
            "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}},
            "crs": {"type": "array", "items": {"type": "string"}},
        },
    },
    "feature": _FEATURE,
    "featureCollection": {
        "type": "object",
        # a download (f=geojson) is the same media type, without links
        "required": ["type", "features", "numberReturned", "timeStamp"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/feature"}},
            "links": _LINKS,
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberReturned": {"type": "integer", "minimum": 0},
            "numberMatched": {"type": "integer", "minimum": 0},
        },
    },
}

_OBJECT = {"type": "object"}
_FEATURES = {"type": "array", "items": {"$ref": "#/components/schemas/feature"}}
_VISIBILITY = {"type": "string", "enum": ["private", "entities", "authenticated", "public"]}
_GRANTS = {"type": "object", "additionalProperties": {"type": "string", "enum": ["read", "write"]}}
_ROLE = {"type": "string", "enum": ["admin", "editor", "viewer"]}
#: What the sharing, versions and upload operations answer (by operationId).
SHARING_ANSWERS: dict[str, Any] = {
    "versions": {
        "type": "object",
        "required": ["collection", "current", "versions"],
        "properties": {
            "collection": {"type": "string"},
            "current": {"type": "integer"},
            "versions": {"type": "array", "items": _OBJECT},
        },
    },
    "restore": {"$ref": "#/components/schemas/collection"},
    "changes": {
        "type": "object",
        "required": ["collection", "since", "version", "inserted", "updated", "deleted"],
        "properties": {
            "collection": {"type": "string"},
            "since": {"type": "integer"},
            "version": {"type": "integer"},
            "inserted": _FEATURES,
            "updated": _FEATURES,
            "deleted": {"type": "array", "items": {"type": "integer"}},
        },
    },
    "getAccess": {
        "type": "object",
        "required": ["owner", "visibility", "entities"],
        "properties": {
            "owner": _STRING_OR_NULL,
            "visibility": _VISIBILITY,
            "entities": _GRANTS,
        },
    },
    "entities": {
        "type": "object",
        "required": ["entities"],
        "properties": {
            "entities": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "name_en", "name_ar"],
                    "properties": {k: {"type": "string"} for k in ("id", "name_en", "name_ar")},
                },
            }
        },
    },
    "keys": {
        "type": "object",
        "required": ["keys"],
        "properties": {
            "keys": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "role", "created", "revoked"],
                    "properties": {
                        "id": KEY_ID_SCHEMA,
                        "role": _ROLE,
                        "created": {"type": "string"},
                        "revoked": _STRING_OR_NULL,
                    },
                },
            }
        },
    },
    "issueKey": {
        "type": "object",
        "required": ["id", "entity", "role", "key"],
        "properties": {
            "id": KEY_ID_SCHEMA,
            "entity": {"type": "string"},
            "role": _ROLE,
            "key": {"type": "string", "pattern": "^gis_[0-9a-f]{12}_[A-Za-z0-9_-]+$"},
        },
    },
    "data": {
        "type": "object",
        "required": ["collection", "report"],
        "properties": {
            "collection": {"$ref": "#/components/schemas/collection"},
            "report": _OBJECT,
        },
    },
}
SHARING_ANSWERS["job"] = {
    "type": "object",
    "required": ["id", "state", "collection", "operation", "links"],
    "properties": {"id": JOB_ID_SCHEMA, "links": _LINKS, "report": {**_OBJECT, "nullable": True}},
}
SHARING_ANSWERS["putAccess"] = SHARING_ANSWERS["getAccess"]
for _name in ("replaceData", "appendData", "createCollection"):
    SHARING_ANSWERS[_name] = SHARING_ANSWERS["data"]

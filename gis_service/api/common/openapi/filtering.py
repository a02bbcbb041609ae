"""The OpenAPI pieces of filtering (Part 3): filter parameters and the queryables paths."""

from __future__ import annotations

from typing import Any

from ....domain.collection import CollectionInfo
from ....domain.filters import CRS84
from .parameters import query_parameter
from .schemas import CRS_SCHEMA
from .sharing import problem

FILTER_PARAMETERS = ["filter", "filter-lang", "filter-crs"]


def filter_parameters() -> dict[str, Any]:
    return {
        "filter": query_parameter(
            "filter",
            "A CQL2 expression the features must satisfy (names: see the collection's"
            " queryables). Comparisons, LIKE/BETWEEN/IN, CASEI/ACCENTI, arithmetic, spatial"
            " (S_*) and temporal (T_*) functions.",
            {"type": "string", "minLength": 1},
        ),
        "filter-lang": query_parameter(
            "filter-lang",
            "The encoding of `filter` (only with a `filter`).",
            {"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"},
        ),
        "filter-crs": query_parameter(
            "filter-crs",
            "The coordinate reference system of the geometries in `filter` (only with a"
            " `filter`; the identifiers `crs` takes).",
            {**CRS_SCHEMA, "default": CRS84},
        ),
    }


def _operation(op_id: str, summary: str, params: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "tags": ["Collections"],
            "parameters": params,
            "responses": {
                "200": {
                    "description": "The queryables as a JSON Schema.",
                    "content": {
                        "application/schema+json": {"schema": {"type": "object"}},
                        "text/html": {},
                    },
                },
                "400": problem("A parameter is invalid or unknown."),
                "401": problem("The API key is malformed, unknown or revoked."),
                "404": problem("Not found, or not visible to this caller."),
                "503": problem("The store is busy or cannot be reached now; try again."),
            },
        }
    }


def queryables_paths(infos: list[CollectionInfo]) -> dict[str, Any]:
    f = {"$ref": "#/components/parameters/f"}
    cid = {"$ref": "#/components/parameters/collectionId"}
    paths = {
        "/collections/{collectionId}/queryables": _operation(
            "queryables", "What a filter on a collection may name", [cid, f]
        )
    }
    for info in infos:
        safe = "".join(c if c.isalnum() else "_" for c in info.id)
        paths[f"/collections/{info.id}/queryables"] = _operation(
            f"queryables_{safe}", f"What a filter on '{info.title}' may name", [f]
        )
    return paths

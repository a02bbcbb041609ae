"""The Coverages part of the OpenAPI document (OGC API - Coverages 1.0: core,
subsetting, scaling, field selection, CRS; GeoTIFF and PNG)."""

from __future__ import annotations

from typing import Any

from .parameters import query_parameter
from .schemas import CRS_SCHEMA
from .sharing import ERRORS, problem

_AXES = "`Lat`, `Lon` (EPSG:4326), `E`, `N` (UTM) ...: the domain set's `axisLabels`"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _text(name: str, description: str) -> dict[str, Any]:
    return query_parameter(name, description, {"type": "string", "maxLength": 1000})


_COVERAGE_PARAMS = [
    _ref("collectionId"),
    query_parameter(
        "f", "The encoding (GeoTIFF by default).", {"enum": ["tif", "tiff", "geotiff", "png"]}
    ),
    _ref("bbox"),
    _ref("bbox-crs"),
    _text("subset", f"Axis ranges or slices, e.g. `Lat(25.2:25.3),Lon(55.4:*)`; axes: {_AXES}."),
    query_parameter(
        "subset-crs",
        "The CRS `subset` is given in (same identifiers as `crs`; its axes, e.g. `Lon`,"
        " `Lat` for CRS84); default the coverage's own.",
        CRS_SCHEMA,
    ),
    _text("scale-size", "Cells along axes, e.g. `Lon(200),Lat(150)`."),
    query_parameter(
        "scale-factor",
        "Divides the number of cells along every axis.",
        {"type": "number", "exclusiveMinimum": True, "minimum": 0},
    ),
    _text("scale-axes", "Divides the number of cells along named axes, e.g. `Lon(2)`."),
    _text("properties", "Bands by name or number, comma-separated (the range type's fields)."),
    _ref("crs"),
    _ref("version"),
]

_DESCRIBED = [
    _ref("collectionId"),
    query_parameter("f", "JSON.", {"enum": ["json"]}),
    _ref("version"),
]
_GONE = problem("That version's data is no longer kept.")


def _errors(*codes: str) -> dict[str, Any]:
    return {k: v for k, v in ERRORS.items() if k in codes}


def _described(op_id: str, summary: str, what: str) -> dict[str, Any]:
    return {
        "get": {
            "operationId": op_id,
            "summary": summary,
            "tags": ["Coverages"],
            "parameters": _DESCRIBED,
            "responses": {
                "200": {
                    "description": what,
                    "content": {"application/json": {"schema": {"type": "object"}}},
                },
                **_errors("400", "401", "404", "503"),
                "410": _GONE,
            },
        }
    }


def coverages_paths() -> dict[str, Any]:
    binary = {"schema": {"type": "string", "format": "binary"}}
    base = "/collections/{collectionId}/coverage"
    return {
        base: {
            "get": {
                "operationId": "coverage",
                "summary": "A raster collection's coverage, subset, scaled, as GeoTIFF or PNG",
                "tags": ["Coverages"],
                "parameters": _COVERAGE_PARAMS,
                "responses": {
                    "200": {
                        "description": "The coverage.",
                        "content": {"image/tiff; application=geotiff": binary, "image/png": binary},
                    },
                    "204": {"description": "The subset lies outside the coverage."},
                    **_errors("400", "401", "404", "503"),
                    "410": _GONE,
                },
            }
        },
        f"{base}/domainset": _described(
            "coverageDomainSet", "The coverage's grid", "The CIS JSON domain set."
        ),
        f"{base}/rangetype": _described(
            "coverageRangeType", "The coverage's bands", "The CIS JSON range type."
        ),
    }

"""What a filter may name: a collection's properties plus its geometry (OGC API Features Part 3).

The geometry is published as `geometry` (or `geom` when a property is called `geometry`);
`geom` and `geometry` are also accepted as aliases when no property has that name, since
the CQL2 standard's own tests call it `geom`.
"""

from __future__ import annotations

from typing import Any

from ..collection import GEOMETRY_TYPES, JSON_SCHEMAS, CollectionInfo, PropertyType
from .ast import Kind, Prop

KINDS = {
    PropertyType.STRING: Kind.STRING,
    PropertyType.INTEGER: Kind.INTEGER,
    PropertyType.NUMBER: Kind.NUMBER,
    PropertyType.BOOLEAN: Kind.BOOLEAN,
    PropertyType.DATE: Kind.DATE,
    PropertyType.DATETIME: Kind.TIMESTAMP,
}
GEOMETRY_ALIASES = ("geometry", "geom")


def geometry_name(info: CollectionInfo) -> str:
    """The name the queryables publish for the geometry: one no property uses."""
    taken = set(info.property_names)
    name = next((n for n in GEOMETRY_ALIASES if n not in taken), "geometry")
    while name in taken:
        name = f"gis_{name}"
    return name


def resolve(info: CollectionInfo, name: str) -> Prop | None:
    """The queryable called `name`: a property first, then the geometry and its aliases."""
    prop = info.prop(name)
    if prop is not None:
        return Prop(prop.name, KINDS[prop.type])
    if name == geometry_name(info) or name in GEOMETRY_ALIASES:
        return Prop(None, Kind.GEOMETRY)
    return None


def geometry_format(geometry_type: str) -> str:
    """JSON Schema `format` of the geometry (OGC API Features Part 5 style)."""
    known = geometry_type in GEOMETRY_TYPES
    return f"geometry-{geometry_type.lower()}" if known else "geometry-any"


def queryables_schema(info: CollectionInfo, url: str) -> dict[str, Any]:
    """The collection's queryables as a JSON Schema (2020-12) document."""
    properties: dict[str, Any] = {
        geometry_name(info): {
            "title": "geometry",
            "format": geometry_format(info.geometry_type),
            "x-ogc-role": "primary-geometry",
        }
    }
    for prop in info.properties:
        properties[prop.name] = {"title": prop.name, **JSON_SCHEMAS[prop.type]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url,
        "type": "object",
        "title": info.title,
        "properties": properties,
        "additionalProperties": False,
    }

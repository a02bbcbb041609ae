"""What a published collection is: its schema, extent and provenance."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, Field

from .raster import RasterInfo

# Shapely/GEOS type ids -> the GeoJSON geometry type names collections report.
GEOMETRY_TYPE_NAMES = {
    0: "Point",
    1: "LineString",
    3: "Polygon",
    4: "MultiPoint",
    5: "MultiLineString",
    6: "MultiPolygon",
    7: "GeometryCollection",
}

#: GeoJSON geometry type names (also CQL2's and JSON Schema's `geometry-...` formats).
GEOMETRY_TYPES = frozenset(GEOMETRY_TYPE_NAMES.values())

COLLECTION_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")


class PropertyType(StrEnum):
    """Attribute types both stores can hold faithfully."""

    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"


#: Each property type as JSON Schema (queryables, OpenAPI parameters).
JSON_SCHEMAS: dict[PropertyType, dict[str, str]] = {
    PropertyType.STRING: {"type": "string"},
    PropertyType.INTEGER: {"type": "integer"},
    PropertyType.NUMBER: {"type": "number"},
    PropertyType.BOOLEAN: {"type": "boolean"},
    PropertyType.DATE: {"type": "string", "format": "date"},
    PropertyType.DATETIME: {"type": "string", "format": "date-time"},
}


class PropertyDef(BaseModel):
    name: str
    type: PropertyType


class TemporalFields(BaseModel):
    """The property (or start and end properties) that `datetime` queries use."""

    start: str
    end: str | None = None


class CollectionKind(StrEnum):
    """Vector features (OGC API - Features) or a raster grid (OGC API - Coverages)."""

    FEATURES = "features"
    COVERAGE = "coverage"


class CollectionInfo(BaseModel):
    """Metadata of one collection, stored beside its features by every store."""

    id: str
    kind: CollectionKind = CollectionKind.FEATURES
    title: str
    title_ar: str | None = None
    description: str = ""
    keywords: list[str] = Field(default_factory=list)
    license: str | None = None
    attribution: str | None = None
    geometry_type: str = "Geometry"
    properties: list[PropertyDef] = Field(default_factory=list)
    bbox: tuple[float, float, float, float] | None = None
    temporal: TemporalFields | None = None
    temporal_extent: tuple[str | None, str | None] | None = None
    source_crs: str | None = None
    source_file: str | None = None
    feature_count: int = 0
    has_null_geometry: bool = False
    version: int = 0  # the generation this metadata describes (1, 2, ... as published)
    updated: datetime | None = None
    raster: RasterInfo | None = None  # the grid and bands of a coverage (kind "coverage")

    @property
    def is_coverage(self) -> bool:
        return self.kind is CollectionKind.COVERAGE

    def prop(self, name: str) -> PropertyDef | None:
        for prop in self.properties:
            if prop.name == name:
                return prop
        return None

    @property
    def property_names(self) -> list[str]:
        return [p.name for p in self.properties]


def valid_collection_id(collection_id: str) -> bool:
    """Ids appear in URLs and file names, so they are kept to a safe alphabet."""
    return bool(COLLECTION_ID.match(collection_id))


# Query parameters the API itself uses; a property with one of these names cannot be
# filtered by `?name=value` (it stays readable, and filterable once CQL2 arrives).
RESERVED_PARAMETERS = frozenset(
    {
        "f",
        "limit",
        "bbox",
        "datetime",
        "cursor",
        "offset",
        "bbox-crs",
        "crs",
        "filter",
        "filter-lang",
        "filter-crs",
        "sortby",
        "properties",
        "skipGeometry",
        "q",
        "version",
    }
)


def equality_parameters(info: CollectionInfo) -> list[PropertyDef]:
    """Properties offered as `?name=value` filters (and declared so in the OpenAPI document)."""
    return [p for p in info.properties if p.name not in RESERVED_PARAMETERS]

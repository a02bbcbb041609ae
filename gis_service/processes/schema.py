"""Process inputs: each kind states its JSON Schema and checks a value against it.

One object per input does both, so the description a client reads at /processes/{id}
and the check its request meets cannot drift apart; every refusal is a 400 naming the
input (`InvalidParameter(name, ...)`), and a filter's error names `<input>.filter`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from ..domain.collection import COLLECTION_ID
from ..errors import InvalidParameter

#: A collection input: an id the caller may read, with an optional CQL2 filter.
COLLECTION_REF = {
    "type": "object",
    "required": ["collection"],
    "properties": {
        "collection": {"type": "string", "description": "a collection id"},
        "filter": {
            "description": "CQL2 text, or a CQL2 JSON object",
            "anyOf": [{"type": "string"}, {"type": "object"}],
        },
        "filter-lang": {"type": "string", "enum": ["cql2-text", "cql2-json"]},
    },
    "additionalProperties": False,
}
GEOJSON = {
    "type": "object",
    "required": ["type"],
    "properties": {"type": {"type": "string"}},
    "description": "inline GeoJSON: a FeatureCollection, a Feature or a geometry (CRS84)",
}


@dataclass(frozen=True)
class Spec:
    """One input: title, whether it must be given, and its default."""

    title: str
    description: str = ""
    required: bool = True
    default: Any = None

    def schema(self) -> dict[str, Any]:  # pragma: no cover - every kind overrides
        raise NotImplementedError

    def parse(self, name: str, value: Any) -> Any:  # pragma: no cover
        raise NotImplementedError

    def describe(self) -> dict[str, Any]:
        schema = self.schema()
        if self.default is not None:
            schema = {**schema, "default": self.default}
        return {
            "title": self.title,
            "description": self.description,
            "minOccurs": 1 if self.required else 0,
            "maxOccurs": 1,
            "schema": schema,
        }


@dataclass(frozen=True)
class Number(Spec):
    minimum: float | None = None
    maximum: float | None = None
    exclusive: bool = False  # the minimum itself is refused
    integer: bool = False

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "integer" if self.integer else "number"}
        if self.minimum is not None:  # OpenAPI 3.0's form, as the Processes schemas use
            out["minimum"] = self.minimum
            if self.exclusive:
                out["exclusiveMinimum"] = True
        if self.maximum is not None:
            out["maximum"] = self.maximum
        return out

    def parse(self, name: str, value: Any) -> float | int:
        value = _qualified(value)
        if isinstance(value, bool) or not isinstance(value, int | float):
            kind = "an integer" if self.integer else "a number"
            raise InvalidParameter(name, f"must be {kind}, got {_shown(value)}")
        if self.integer and not float(value).is_integer():
            raise InvalidParameter(name, f"must be an integer, got {value}")
        if not math.isfinite(value):
            raise InvalidParameter(name, "must be a finite number")
        low = self.minimum
        if low is not None and (value <= low if self.exclusive else value < low):
            raise InvalidParameter(
                name, f"must be {'above' if self.exclusive else 'at least'} {low:g}"
            )
        if self.maximum is not None and value > self.maximum:
            raise InvalidParameter(name, f"must be at most {self.maximum:g}")
        return int(value) if self.integer else float(value)


@dataclass(frozen=True)
class Text(Spec):
    pattern: str | None = None
    choices: tuple[str, ...] = ()

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "string"}
        if self.pattern:
            out["pattern"] = self.pattern
        if self.choices:
            out["enum"] = list(self.choices)
        return out

    def parse(self, name: str, value: Any) -> str:
        value = _qualified(value)
        if not isinstance(value, str):
            raise InvalidParameter(name, f"must be a string, got {_shown(value)}")
        if "\x00" in value:
            raise InvalidParameter(name, "must not contain NUL")
        if self.choices and value not in self.choices:
            raise InvalidParameter(name, f"must be one of {', '.join(self.choices)}")
        if self.pattern == COLLECTION_ID.pattern and not COLLECTION_ID.match(value):
            raise InvalidParameter(name, f"{value[:70]!r} is not an allowed collection id")
        return value


@dataclass(frozen=True)
class Names(Spec):
    """A list of distinct strings (property names, statistics), optionally from `choices`."""

    choices: tuple[str, ...] = ()
    most: int = 20

    def schema(self) -> dict[str, Any]:
        items: dict[str, Any] = {"type": "string"}
        if self.choices:
            items["enum"] = list(self.choices)
        return {"type": "array", "items": items, "uniqueItems": True, "maxItems": self.most}

    def parse(self, name: str, value: Any) -> list[str]:
        value = _qualified(value)
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise InvalidParameter(name, "must be an array of strings")
        if len(set(value)) != len(value):
            raise InvalidParameter(name, "names a value twice")
        if len(value) > self.most:
            raise InvalidParameter(name, f"at most {self.most} values")
        bad = [v for v in value if self.choices and v not in self.choices]
        if bad:
            raise InvalidParameter(name, f"{bad[0]!r} is not one of {', '.join(self.choices)}")
        return value


@dataclass(frozen=True)
class CollectionRef:
    collection: str
    filter: Any = None
    lang: str | None = None


@dataclass(frozen=True)
class Inline:
    features: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True)
class Features(Spec):
    """Features: a collection (with an optional filter) or inline GeoJSON."""

    def schema(self) -> dict[str, Any]:
        return {"anyOf": [COLLECTION_REF, GEOJSON]}

    def parse(self, name: str, value: Any) -> CollectionRef | Inline:
        value = _qualified(value)
        if not isinstance(value, dict):
            raise InvalidParameter(name, "must be {'collection': id} or inline GeoJSON")
        if "collection" in value:
            return _collection_ref(name, value)
        return Inline(_geojson_features(name, value))


def _collection_ref(name: str, value: dict[str, Any]) -> CollectionRef:
    unknown = set(value) - set(COLLECTION_REF["properties"])
    if unknown:
        raise InvalidParameter(name, f"unknown member {sorted(unknown)[0]!r}")
    cid, text, lang = value["collection"], value.get("filter"), value.get("filter-lang")
    if not isinstance(cid, str) or not cid or "\x00" in cid:
        raise InvalidParameter(f"{name}.collection", "must be a collection id")
    if lang not in (None, "cql2-text", "cql2-json"):
        raise InvalidParameter(f"{name}.filter-lang", "must be cql2-text or cql2-json")
    if text is not None and not isinstance(text, str | dict):
        raise InvalidParameter(f"{name}.filter", "must be CQL2 text or a CQL2 JSON object")
    if isinstance(text, dict):
        lang = "cql2-json"
    return CollectionRef(cid, text, lang)


def _geojson_features(name: str, value: dict[str, Any]) -> list[dict[str, Any]]:
    kind = value.get("type")
    if kind == "FeatureCollection":
        features = value.get("features")
        if not isinstance(features, list):
            raise InvalidParameter(name, "a FeatureCollection needs a 'features' array")
    elif kind == "Feature":
        features = [value]
    elif isinstance(kind, str) and kind in _GEOMETRY_TYPES:
        features = [{"type": "Feature", "geometry": value, "properties": {}}]
    else:
        raise InvalidParameter(name, "must be {'collection': id} or inline GeoJSON")
    for i, feature in enumerate(features):
        if not isinstance(feature, dict) or not isinstance(feature.get("geometry"), dict):
            raise InvalidParameter(name, f"feature {i} has no geometry object")
        props = feature.get("properties")
        if props is not None and not isinstance(props, dict):
            raise InvalidParameter(name, f"feature {i}: properties must be an object")
    return features


_GEOMETRY_TYPES = frozenset(
    ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"]
)


def _qualified(value: Any) -> Any:
    """Inputs are plain values (as the schema at /processes/{id} says)."""
    return value


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:40] + "..."


def parse_inputs(specs: dict[str, Spec], given: Any) -> dict[str, Any]:
    """Every input checked (unknown ones refused), defaults filled in."""
    if not isinstance(given, dict):
        raise InvalidParameter("inputs", "must be an object naming each input")
    unknown = set(given) - set(specs)
    if unknown:
        raise InvalidParameter(sorted(unknown)[0], "is not an input of this process")
    out: dict[str, Any] = {}
    for name, spec in specs.items():
        if name in given and given[name] is not None:
            out[name] = spec.parse(name, given[name])
        elif spec.required:
            raise InvalidParameter(name, "is required")
        else:
            out[name] = spec.default
    return out

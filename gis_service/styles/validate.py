"""Checks a MapLibre style sent for a collection, naming the place of the first error.

No well-kept Python validator of the MapLibre style specification exists on PyPI (the
reference one is `@maplibre/maplibre-gl-style-spec`, JavaScript), so this checks what a
style for one collection's tiles needs: version 8, layers of known types on this
collection's source and source layer, paint and layout properties that exist for the
layer's type with values of the right kind, zoom ranges, and expressions whose operators
exist and whose `get`s name the collection's properties.
"""

from __future__ import annotations

import re
from typing import Any

from ..errors import InvalidParameter
from .spec import (
    ARRAY_PROPERTIES,
    EXPRESSION_OPERATORS,
    LAYER_KEYS,
    MAX_LAYERS,
    PROPERTIES,
    STYLE_KEYS,
)

_COLOUR = re.compile(
    r"^(#[0-9a-fA-F]{3,4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|(rgb|rgba|hsl|hsla)\([^()]*\)|[a-z]+)$"
)
#: What a tile's features carry besides the collection's properties (clusters: `count`).
EXTRA_PROPERTIES = frozenset({"count"})


#: Operators of input, then pairs (and a default): the shortest well-formed length; every
#: well-formed one has an odd length.
_ARITY = {"match": 5, "step": 3, "interpolate": 5, "interpolate-hcl": 5, "interpolate-lab": 5}


class InvalidStyle(InvalidParameter):
    title = "Invalid style"


def validate_style(doc: Any, collection_id: str, properties: set[str]) -> dict[str, Any]:
    """The style, with each layer's source and source layer set to this collection's."""
    if not isinstance(doc, dict):
        raise InvalidStyle("body", "a style is a JSON object")
    for key in doc:
        if key not in STYLE_KEYS:
            raise InvalidStyle(key, "not a property of a MapLibre style")
    if not isinstance(doc.get("name", ""), str):
        raise InvalidStyle("name", "must be a string")
    if not isinstance(doc.get("metadata", {}), dict):
        raise InvalidStyle("metadata", "must be a JSON object")
    if doc.get("version") != 8:
        raise InvalidStyle("version", "must be 8 (the MapLibre style specification)")
    sources = doc.get("sources", {})
    if not isinstance(sources, dict) or set(sources) - {collection_id}:
        raise InvalidStyle(
            "sources", f"a collection's style draws only its own source {collection_id!r}"
        )
    layers = doc.get("layers")
    if not isinstance(layers, list) or not 1 <= len(layers) <= MAX_LAYERS:
        raise InvalidStyle("layers", f"must be a list of 1 to {MAX_LAYERS} layers")
    seen: set[str] = set()
    names = properties | EXTRA_PROPERTIES
    for i, layer in enumerate(layers):
        _layer(f"layers[{i}]", layer, collection_id, names, seen)
    return {**doc, "sources": {collection_id: {"type": "vector"}}}


def _layer(where: str, layer: Any, cid: str, names: set[str], seen: set[str]) -> None:
    if not isinstance(layer, dict):
        raise InvalidStyle(where, "a layer is a JSON object")
    for key in layer:
        if key not in LAYER_KEYS:
            raise InvalidStyle(f"{where}.{key}", "not a property of a style layer")
    if not isinstance(layer.get("metadata", {}), dict):
        raise InvalidStyle(f"{where}.metadata", "must be a JSON object")
    lid, kind = layer.get("id"), layer.get("type")
    if not isinstance(lid, str) or not lid or lid in seen:
        raise InvalidStyle(f"{where}.id", "each layer needs an id of its own (a string)")
    seen.add(lid)
    if not isinstance(kind, str) or kind not in PROPERTIES:
        raise InvalidStyle(f"{where}.type", f"{kind!r} is not one of {', '.join(PROPERTIES)}")
    for key in ("source", "source-layer"):
        if layer.get(key, cid) != cid:
            raise InvalidStyle(f"{where}.{key}", f"must be {cid!r}, this collection")
    layer.setdefault("source", cid)
    layer.setdefault("source-layer", cid)
    _zooms(where, layer)
    if "filter" in layer:
        _expression(f"{where}.filter", layer["filter"], names)
    for group in ("paint", "layout"):
        values = layer.get(group, {})
        if not isinstance(values, dict):
            raise InvalidStyle(f"{where}.{group}", "must be a JSON object")
        for prop, value in values.items():
            if prop not in PROPERTIES[kind][group]:
                raise InvalidStyle(
                    f"{where}.{group}.{prop}", f"not a {group} property of a {kind} layer"
                )
            _value(f"{where}.{group}.{prop}", prop, value, names)


def _zooms(where: str, layer: dict[str, Any]) -> None:
    low, high = layer.get("minzoom", 0), layer.get("maxzoom", 24)
    for key, value in (("minzoom", low), ("maxzoom", high)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 24:
            raise InvalidStyle(f"{where}.{key}", "must be a number from 0 to 24")
    if low > high:
        raise InvalidStyle(f"{where}.minzoom", f"{low} is above maxzoom {high}")


def _value(where: str, prop: str, value: Any, names: set[str]) -> None:
    if isinstance(value, list):
        literal = all(isinstance(v, int | float | str) for v in value)
        if not (prop in ARRAY_PROPERTIES and literal and value[:1] != ["literal"]):
            _expression(where, value, names)  # else a literal array (dashes, offsets, fonts)
    elif isinstance(value, dict):
        if "stops" not in value:  # the older function form
            raise InvalidStyle(where, "an object value is a function with `stops`")
    elif prop.endswith("-color"):
        if not isinstance(value, str) or not _COLOUR.match(value):
            raise InvalidStyle(where, f"{value!r} is not a colour")
    elif prop.endswith("-opacity"):
        if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
            raise InvalidStyle(where, "must be a number from 0 to 1")
    elif prop.endswith(("-width", "-radius", "-size", "-blur")):
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise InvalidStyle(where, "must be a number, 0 or more")
    elif prop == "visibility" and value not in ("visible", "none"):
        raise InvalidStyle(where, "must be 'visible' or 'none'")


def _expression(where: str, expr: Any, names: set[str], depth: int = 0) -> None:
    if depth > 32:
        raise InvalidStyle(where, "expression nested too deeply")
    if not isinstance(expr, list) or not expr or not isinstance(expr[0], str):
        raise InvalidStyle(where, "an expression is a list starting with its operator")
    op = expr[0]
    if op not in EXPRESSION_OPERATORS:
        raise InvalidStyle(where, f"{op!r} is not an expression operator")
    if op == "literal":
        return
    shortest = _ARITY.get(op)
    if shortest is not None and (len(expr) < shortest or len(expr) % 2 == 0):
        raise InvalidStyle(where, f"{op!r} takes pairs after its input (see the style spec)")
    named = op in ("get", "has") and len(expr) == 2 and isinstance(expr[1], str)
    if named and expr[1] not in names:
        raise InvalidStyle(where, f"{expr[1]!r} is not a property of this collection")
    labels = range(2, len(expr) - 1, 2) if op == "match" else ()  # literal values, or lists
    for i, arg in enumerate(expr[1:], start=1):
        if i not in labels and isinstance(arg, list) and arg and isinstance(arg[0], str):
            _expression(f"{where}[{i}]", arg, names, depth + 1)

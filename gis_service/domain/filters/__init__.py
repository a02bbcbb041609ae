"""CQL2 filters (OGC API Features Part 3): parsing, checking, the typed tree. No SQL here."""

from __future__ import annotations

from typing import Any

from ...errors import InvalidParameter
from ..collection import CollectionInfo
from ..crs import resolve_crs
from .ast import Predicate, properties_of
from .parse import LANGUAGES, check, to_json
from .queryables import geometry_name, queryables_schema

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
FILTER_PARAMS = frozenset({"filter", "filter-lang", "filter-crs"})


def _to_crs84(crs_text: str | None) -> Any:
    """The transform of literals from `filter-crs` to CRS84 (None: already CRS84)."""
    if crs_text is None:
        return None
    crs = resolve_crs("filter-crs", crs_text)
    return None if crs.is_crs84 else crs.to_crs84


def parse_filter(
    source: str | None, lang: str | None, crs_text: str | None, info: CollectionInfo
) -> Predicate | None:
    """The request's `filter`, `filter-lang` and `filter-crs`, checked against a collection."""
    if source is None:
        if lang is not None or crs_text is not None:
            name = "filter-lang" if lang is not None else "filter-crs"
            raise InvalidParameter(name, "given without a filter")
        return None
    language = lang or "cql2-text"
    if language not in LANGUAGES:
        raise InvalidParameter("filter-lang", f"{lang!r} is not one of {', '.join(LANGUAGES)}")
    if not source.strip():
        raise InvalidParameter("filter", "is empty")
    tree = to_json(source, language)
    return check(info, tree, _to_crs84(crs_text))


__all__ = [
    "CRS84",
    "FILTER_PARAMS",
    "Predicate",
    "geometry_name",
    "parse_filter",
    "properties_of",
    "queryables_schema",
]

"""CQL2 on the PostGIS store: the dialect's filter pieces, matching the GeoPackage ones.

CASEI is `lower()` under the ICU root collation, which folds exactly as Python's
`str.lower` does (the libc C.UTF-8 one differs, e.g. for U+0130); ACCENTI removes the same
marks with the same pattern as `domain.filters.text`, bound as a parameter. Literals are
typed casts of bound parameters; geometry literals travel as WKB.
"""

from __future__ import annotations

from typing import Any

import psycopg
import shapely

from ...domain.collection import PropertyType
from ...domain.filters import text
from ...errors import InvalidParameter, QueryTimeout
from ..indexing import SHORT_TEXT_BYTES, is_short_text

Sql = tuple[str, list[Any]]
CASTS = {
    PropertyType.STRING: "text",
    PropertyType.INTEGER: "bigint",
    PropertyType.NUMBER: "double precision",
    PropertyType.BOOLEAN: "boolean",
    PropertyType.DATE: "date",
    PropertyType.DATETIME: "timestamptz",
}
CASEI_COLLATION = "und-x-icu"
_ST = {
    "intersects": "ST_Intersects",
    "equals": "ST_Equals",
    "disjoint": "ST_Disjoint",
    "touches": "ST_Touches",
    "within": "ST_Within",
    "overlaps": "ST_Overlaps",
    "crosses": "ST_Crosses",
    "contains": "ST_Contains",
}


class PgFilterDialect:
    """Mixed into `PgDialect`."""

    geometry_column = '"geom"'

    def typed_placeholder(self, kind: PropertyType) -> str:
        return f"%s::{CASTS[kind]}"

    def text_order(self, sql: str) -> str:
        return f'({sql}) COLLATE "C"'

    def text_index_condition(self, column: str, values: list[str]) -> str | None:
        """The partial index's condition (store/indexing.py): the short values' B-tree or
        the long values' hash index; values of both kinds leave the choice to the planner."""
        short = {is_short_text(v) for v in values}
        if len(short) != 1:
            return None
        return f"octet_length({column}) {'<=' if short.pop() else '>'} {SHORT_TEXT_BYTES}"

    def fold(self, function: str, sql: str, params: list[Any]) -> Sql:
        if function == "casei":
            return f'lower(({sql}) COLLATE "{CASEI_COLLATION}")', params
        return (
            f"translate(regexp_replace(normalize({sql}, NFD), %s, '', 'g'), %s, %s)",
            [*params, text.mark_class(), text.STROKE_FROM, text.STROKE_TO],
        )

    def like(self, sql: str, pattern: str) -> Sql:
        return f"{sql} LIKE %s ESCAPE '\\'", [pattern]

    def arithmetic(self, op: str, left: Sql, right: Sql, integral: bool) -> Sql:
        (a, ap), (b, bp) = left, right
        params = ap + bp
        if integral:  # exact, and without bigint overflow errors
            a, b = f"({a})::numeric", f"({b})::numeric"
            if op in ("+", "-", "*"):
                return f"({a} {op} {b})", params
            if op == "div":
                return f"div({a}, NULLIF({b}, 0))", params
            return f"mod({a}, NULLIF({b}, 0))", params
        a, b = f"({a})::double precision", f"({b})::double precision"
        if op in ("+", "-", "*"):
            return f"({a} {op} {b})", params
        if op == "/":
            return f"({a} / NULLIF({b}, 0))", params
        if op == "div":
            return f"trunc({a} / NULLIF({b}, 0))", params
        if op == "%":
            return f"({a} - {b} * trunc({a} / NULLIF({b}, 0)))", params + params
        # power: NULL where it has no real value, as the GeoPackage store's function gives
        return (
            f"(CASE WHEN ({a} < 0 AND {b} <> trunc({b})) OR ({a} = 0 AND {b} < 0) THEN NULL"
            f" ELSE power({a}, {b}) END)",
            ap + bp + bp + ap + bp + ap + bp,
        )

    def spatial(self, op: str, literal: Any) -> Sql:
        return f'{_ST[op]}("geom", ST_GeomFromWKB(%s, 4326))', [shapely.to_wkb(literal)]


def translate_error(error: psycopg.Error, timeout_ms: int) -> Exception | None:
    """Errors a filter can cause, as the problems they are; None for everything else."""
    if isinstance(error, psycopg.errors.QueryCanceled):
        return QueryTimeout(timeout_ms)
    if isinstance(error, psycopg.errors.NumericValueOutOfRange):
        return InvalidParameter("filter", "an arithmetic result is out of range")
    return None

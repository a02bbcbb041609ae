"""Sorted keyset paging: ORDER BY terms and "after this row" conditions, for both stores.

NULLs sort first ascending and last descending on both engines (SQLite's default, said
explicitly to PostgreSQL), and the feature id breaks every tie, so the order is total and
a cursor names one exact position in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..domain.collection import CollectionInfo, PropertyType
from ..domain.query import CursorValue, FeatureQuery, SortKey
from ..domain.values import parse_typed
from ..errors import InvalidParameter
from .base import Feature
from .sql import Dialect, Where


@dataclass(frozen=True)
class Term:
    name: str
    sql: str
    kind: PropertyType
    descending: bool


class Ordering:
    """A query's sort order, able to say which rows come after (or before) a position."""

    def __init__(self, collection: CollectionInfo, keys: list[SortKey], dialect: Dialect) -> None:
        self.dialect = dialect
        self.terms = []
        for key in keys:
            prop = collection.prop(key.name)
            assert prop is not None, key.name  # parse_sortby checked it
            self.terms.append(
                Term(key.name, dialect.sort_column(collection, key.name), prop.type, key.descending)
            )

    def order_by(self, *, reverse: bool = False) -> str:
        parts = []
        for term in self.terms:
            descending = term.descending != reverse
            nulls = "NULLS LAST" if descending else "NULLS FIRST"
            parts.append(f"{term.sql} {'DESC' if descending else 'ASC'} {nulls}")
        parts.append(f"{self.dialect.fid} {'DESC' if reverse else 'ASC'}")
        return ", ".join(parts)

    def position(self, feature: Feature) -> tuple[CursorValue, ...]:
        """The sort values a cursor carries (JSON-safe output values)."""
        return tuple(feature.properties.get(t.name) for t in self.terms)

    def beyond(
        self, keys: tuple[CursorValue, ...], fid: int, *, reverse: bool = False
    ) -> tuple[str, list[Any]]:
        """Rows strictly after the position in this order (before it when `reverse`)."""
        ph = self.dialect.placeholder
        condition, params = f"{self.dialect.fid} {'<' if reverse else '>'} {ph}", [fid]
        for term, value in reversed(list(zip(self.terms, keys, strict=True))):
            descending = term.descending != reverse
            bound = self._bind(term, value)
            if bound is None:
                equal, equal_params = f"{term.sql} IS NULL", []
                later = None if descending else (f"{term.sql} IS NOT NULL", [])
            else:
                equal, equal_params = f"{term.sql} = {ph}", [bound]
                later = (
                    (f"({term.sql} < {ph} OR {term.sql} IS NULL)", [bound])
                    if descending
                    else (f"{term.sql} > {ph}", [bound])
                )
            nested = f"{equal} AND ({condition})"
            nested_params = [*equal_params, *params]
            if later is None:
                condition, params = nested, nested_params
            else:
                condition = f"{later[0]} OR ({nested})"
                params = [*later[1], *nested_params]
        return condition, params

    def check(self, keys: tuple[CursorValue, ...]) -> None:
        """A cursor must come from a page of this very order (it is client-held text)."""
        if len(keys) != len(self.terms):
            raise InvalidParameter("cursor", "issued for a different sortby")
        for term, value in zip(self.terms, keys, strict=True):
            if value is not None and not _ACCEPTS[term.kind](value):
                raise InvalidParameter("cursor", "issued for a different sortby")

    def _bind(self, term: Term, value: CursorValue) -> Any:
        if value is None:
            return None
        if isinstance(value, str) and term.kind in (PropertyType.DATE, PropertyType.DATETIME):
            try:
                value = parse_typed(value, term.kind)
            except ValueError as exc:
                raise InvalidParameter("cursor", "not a cursor issued by this service") from exc
        return self.dialect.bind(value, term.kind)


_ACCEPTS = {
    PropertyType.STRING: lambda v: isinstance(v, str),
    PropertyType.INTEGER: lambda v: isinstance(v, int) and not isinstance(v, bool),
    PropertyType.NUMBER: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    PropertyType.BOOLEAN: lambda v: isinstance(v, bool),
    PropertyType.DATE: lambda v: isinstance(v, str),
    PropertyType.DATETIME: lambda v: isinstance(v, str),
}


def selection_sql(
    select_sql: str,
    where: Where,
    info: CollectionInfo,
    query: FeatureQuery,
    dialect: Dialect,
    limit: int | None,
) -> tuple[str, list[Any]]:
    """Every matching row in the query's order (id order unless sorted), capped by `limit`."""
    if query.sortby:
        order = Ordering(info, query.sortby, dialect).order_by()
    else:
        order = f"{dialect.fid} ASC"
    sql = f"{select_sql} WHERE {where.sql()} ORDER BY {order}"
    params = list(where.params)
    if limit is not None:
        sql += f" LIMIT {dialect.placeholder}"
        params.append(limit)
    return sql, params

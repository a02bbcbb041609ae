"""The SQL both stores share: a small dialect, quoting, and WHERE clauses built up in parts.

Values always travel as bound parameters; identifiers come only from the collection's
own schema, quoted, never from the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..domain.collection import CollectionInfo, PropertyType
from ..domain.query import BBox


class Dialect(Protocol):
    placeholder: str

    def column(self, collection: CollectionInfo, name: str) -> str:
        """The quoted column holding property `name`."""

    def sort_column(self, collection: CollectionInfo, name: str) -> str:
        """The column as an ORDER BY / keyset term (text in code point order)."""

    @property
    def fid(self) -> str: ...

    def bbox_condition(
        self, bbox: BBox, collection: CollectionInfo, exact: bool = True
    ) -> tuple[str, list[Any]]:
        """Exact intersection with the box, using the spatial index where it pays.

        Features without geometry match every box (OGC /req/core/fc-bbox-response); the
        collection says whether there are any, so the common case keeps a pure index query.
        `exact` False: the index's candidates suffice (the caller tests or clips them).
        """

    def bind(self, value: Any, kind: PropertyType) -> Any:
        """A domain value in the form the column stores."""

    # CQL2 filters (store/filter_sql.py); each returns SQL with placeholders, plus params.
    @property
    def geometry_column(self) -> str: ...

    def typed_placeholder(self, kind: PropertyType) -> str:
        """A placeholder for a literal of this type (typed where the engine needs it)."""

    def text_order(self, sql: str) -> str:
        """Text as an ordering operand in code point order."""

    def text_index_condition(self, column: str, values: list[str]) -> str | None:
        """A condition that `column` equal to one of `values` implies and that lets the
        store's index on the column answer it (None: the equality alone does)."""

    def fold(self, function: str, sql: str, params: list[Any]) -> tuple[str, list[Any]]:
        """CASEI or ACCENTI of a string expression."""

    def like(self, sql: str, pattern: str) -> tuple[str, list[Any]]:
        """Case-sensitive CQL2 LIKE (% _ and backslash escapes)."""

    def arithmetic(
        self, op: str, left: tuple[str, list[Any]], right: tuple[str, list[Any]], integral: bool
    ) -> tuple[str, list[Any]]:
        """+ - * / % div ^; division by zero gives NULL, `/` divides as floats."""

    def spatial(self, op: str, literal: Any) -> tuple[str, list[Any]]:
        """An exact spatial predicate between the geometry and a CRS84 Shapely literal."""


def quote(identifier: str) -> str:
    """Standard SQL identifier quoting (both SQLite and PostgreSQL)."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass
class Where:
    clauses: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, clause: str, *params: Any) -> None:
        self.clauses.append(clause)
        self.params.extend(params)

    def sql(self) -> str:
        return " AND ".join(f"({c})" for c in self.clauses) if self.clauses else "TRUE"

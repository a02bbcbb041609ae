"""The checked CQL2 expression tree: typed, resolved against one collection, no SQL.

Every node has been validated (known property, known operator, matching types, finite
numbers, literals in CRS84), so a store only translates it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """Value types of expressions, as CQL2 names them."""

    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    DATE = "date"
    TIMESTAMP = "timestamp"
    GEOMETRY = "geometry"

    @property
    def numeric(self) -> bool:
        return self in (Kind.NUMBER, Kind.INTEGER)

    @property
    def temporal(self) -> bool:
        return self in (Kind.DATE, Kind.TIMESTAMP)


# -- value expressions -------------------------------------------------------------------
@dataclass(frozen=True)
class Prop:
    """A queryable: a property (by its real name) or the geometry (name None)."""

    name: str | None
    kind: Kind


@dataclass(frozen=True)
class Literal:
    """A constant: str, int, float, bool, date, datetime (UTC) or a Shapely geometry."""

    value: Any
    kind: Kind


@dataclass(frozen=True)
class Fold:
    """CASEI / ACCENTI applied to a string expression."""

    function: str  # "casei" | "accenti"
    arg: Expr
    kind: Kind = Kind.STRING


@dataclass(frozen=True)
class Arith:
    op: str  # + - * / % div ^
    left: Expr
    right: Expr
    kind: Kind


Expr = Prop | Literal | Fold | Arith


# -- predicates ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Const:
    value: bool


@dataclass(frozen=True)
class And:
    items: tuple[Predicate, ...]


@dataclass(frozen=True)
class Or:
    items: tuple[Predicate, ...]


@dataclass(frozen=True)
class Not:
    item: Predicate


@dataclass(frozen=True)
class Compare:
    op: str  # = <> < > <= >=
    left: Expr
    right: Expr


@dataclass(frozen=True)
class Like:
    """`value LIKE pattern`; the pattern is a literal, already case/accent folded."""

    value: Expr
    pattern: str


@dataclass(frozen=True)
class Between:
    value: Expr
    low: Expr
    high: Expr


@dataclass(frozen=True)
class In:
    value: Expr
    items: tuple[Expr, ...]


@dataclass(frozen=True)
class IsNull:
    value: Expr | Predicate


@dataclass(frozen=True)
class Spatial:
    """`op(geometry, literal)`; the literal is a Shapely geometry in CRS84."""

    op: str  # intersects equals disjoint touches within overlaps crosses contains
    literal: Any


#: An open interval end ('..').
OPEN = None

Bound = Prop | Literal | None


@dataclass(frozen=True)
class Period:
    """An instant (start is end) or interval; all bounds of one kind (date or timestamp)."""

    start: Bound
    end: Bound
    kind: Kind


@dataclass(frozen=True)
class Temporal:
    op: str  # after before contains disjoint during equals finishedby ... starts
    left: Period
    right: Period


Predicate = Const | And | Or | Not | Compare | Like | Between | In | IsNull | Spatial | Temporal


def literal_date(value: date | datetime) -> Literal:
    if isinstance(value, datetime):
        return Literal(value, Kind.TIMESTAMP)
    return Literal(value, Kind.DATE)


def properties_of(node: Any) -> set[str]:
    """Names of the properties a tree reads (to check them against an older version)."""
    found: set[str] = set()
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Prop):
            if item.name is not None:
                found.add(item.name)
        elif isinstance(item, tuple):
            stack.extend(item)
        elif hasattr(item, "__dataclass_fields__"):
            stack.extend(getattr(item, f) for f in item.__dataclass_fields__)
    return found

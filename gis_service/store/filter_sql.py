"""A checked CQL2 tree -> one SQL condition, asking the store's dialect for every piece.

Names come only from the collection's schema (through the dialect); every value is a bound
parameter. NULLs follow SQL's three-valued logic on both stores alike: a comparison with a
missing value is unknown, so neither `x = 1` nor `NOT x = 1` matches it.
"""

from __future__ import annotations

from typing import Any

from ..domain.collection import CollectionInfo, PropertyType
from ..domain.filters.ast import (
    And,
    Arith,
    Between,
    Compare,
    Const,
    Expr,
    Fold,
    In,
    IsNull,
    Kind,
    Like,
    Literal,
    Not,
    Or,
    Period,
    Predicate,
    Prop,
    Spatial,
    Temporal,
)
from .sql import Dialect

Sql = tuple[str, list[Any]]

STORED = {
    Kind.STRING: PropertyType.STRING,
    Kind.INTEGER: PropertyType.INTEGER,
    Kind.NUMBER: PropertyType.NUMBER,
    Kind.BOOLEAN: PropertyType.BOOLEAN,
    Kind.DATE: PropertyType.DATE,
    Kind.TIMESTAMP: PropertyType.DATETIME,
}

# Allen's interval relations on (left start, left end, right start, right end), as CQL2
# defines its temporal functions; an instant is an interval whose ends coincide.
ALLEN: dict[str, list[tuple[str, str, str]]] = {
    "after": [("ls", ">", "re")],
    "before": [("le", "<", "rs")],
    "meets": [("le", "=", "rs")],
    "metby": [("ls", "=", "re")],
    "overlaps": [("ls", "<", "rs"), ("le", ">", "rs"), ("le", "<", "re")],
    "overlappedby": [("ls", ">", "rs"), ("ls", "<", "re"), ("le", ">", "re")],
    "starts": [("ls", "=", "rs"), ("le", "<", "re")],
    "startedby": [("ls", "=", "rs"), ("le", ">", "re")],
    "during": [("ls", ">", "rs"), ("le", "<", "re")],
    "contains": [("ls", "<", "rs"), ("le", ">", "re")],
    "finishes": [("ls", ">", "rs"), ("le", "=", "re")],
    "finishedby": [("ls", "<", "rs"), ("le", "=", "re")],
    "equals": [("ls", "=", "rs"), ("le", "=", "re")],
    "intersects": [("ls", "<=", "re"), ("le", ">=", "rs")],
}


class Translator:
    def __init__(self, collection: CollectionInfo, dialect: Dialect) -> None:
        self.collection = collection
        self.dialect = dialect

    # -- conditions -------------------------------------------------------------------
    def predicate(self, node: Predicate) -> Sql:
        if isinstance(node, Const):
            return ("TRUE" if node.value else "FALSE"), []
        if isinstance(node, And | Or):
            parts = [self.predicate(item) for item in node.items]
            joiner = " AND " if isinstance(node, And) else " OR "
            return joiner.join(f"({s})" for s, _ in parts), [p for _, ps in parts for p in ps]
        if isinstance(node, Not):
            sql, params = self.predicate(node.item)
            return f"NOT ({sql})", params
        if isinstance(node, Compare):
            (left, lp), (right, rp) = self.ordered(node.left, node.right, node.op)
            sql = f"{left} {node.op} {right}"
            if node.op == "=":
                sql = self.text_index(sql, node.left, [node.right])
                sql = self.text_index(sql, node.right, [node.left])
            return sql, lp + rp
        if isinstance(node, Like):
            sql, params = self.value(node.value)
            like, more = self.dialect.like(sql, node.pattern)
            return like, params + more
        if isinstance(node, Between):
            (value, vp), (low, lp) = self.ordered(node.value, node.low, "<")
            _, (high, hp) = self.ordered(node.value, node.high, "<")
            return f"{value} BETWEEN {low} AND {high}", vp + lp + hp
        if isinstance(node, In):
            value, params = self.value(node.value)
            items = [self.value(item) for item in node.items]
            marks = ", ".join(s for s, _ in items)
            sql = self.text_index(f"{value} IN ({marks})", node.value, list(node.items))
            return sql, params + [p for _, ps in items for p in ps]
        if isinstance(node, IsNull):
            if isinstance(node.value, Literal):
                return "FALSE", []
            sql, params = self.value(node.value)
            return f"({sql}) IS NULL", params
        if isinstance(node, Spatial):
            return self.dialect.spatial(node.op, node.literal)
        if isinstance(node, Temporal):
            return self.temporal(node)
        raise TypeError(f"not a predicate: {node!r}")

    def text_index(self, sql: str, prop: Expr, literals: list[Expr]) -> str:
        """`sql`, a text property equal to literals, with what lets the store's index
        answer it (PostGIS indexes short and long text apart: store/indexing.py)."""
        if not isinstance(prop, Prop) or prop.kind is not Kind.STRING or prop.name is None:
            return sql
        values = [v.value for v in literals if isinstance(v, Literal) and v.kind is Kind.STRING]
        if len(values) != len(literals):
            return sql
        column = self.dialect.column(self.collection, prop.name)
        hint = self.dialect.text_index_condition(column, values)
        return sql if hint is None else f"{sql} AND {hint}"

    def ordered(self, left: Expr, right: Expr, op: str) -> tuple[Sql, Sql]:
        """Both sides; text in code point order on both stores when the order matters."""
        a, b = self.value(left), self.value(right)
        if op not in ("=", "<>") and Kind.STRING in (left.kind, right.kind):
            a = (self.dialect.text_order(a[0]), a[1])
            b = (self.dialect.text_order(b[0]), b[1])
        return a, b

    # -- values -----------------------------------------------------------------------
    def value(self, node: Expr) -> Sql:
        if isinstance(node, Prop):
            if node.name is None:
                return self.dialect.geometry_column, []
            return self.dialect.column(self.collection, node.name), []
        if isinstance(node, Literal):
            kind = STORED[node.kind]
            return self.dialect.typed_placeholder(kind), [self.dialect.bind(node.value, kind)]
        if isinstance(node, Fold):
            sql, params = self.value(node.arg)
            return self.dialect.fold(node.function, sql, params)
        if isinstance(node, Arith):
            left, right = self.value(node.left), self.value(node.right)
            return self.dialect.arithmetic(node.op, left, right, node.kind is Kind.INTEGER)
        raise TypeError(f"not a value: {node!r}")

    # -- time -------------------------------------------------------------------------
    def temporal(self, node: Temporal) -> Sql:
        ends = {
            "ls": (node.left.start, True),
            "le": (node.left.end, False),
            "rs": (node.right.start, True),
            "re": (node.right.end, False),
        }
        relation = ALLEN.get(node.op)
        negate = node.op == "disjoint"
        if negate:
            relation = ALLEN["intersects"]
        assert relation is not None, node.op
        parts = [self.compare_bounds(ends[a], op, ends[b], node.left) for a, op, b in relation]
        sql = " AND ".join(f"({s})" for s, _ in parts)
        params = [p for _, ps in parts for p in ps]
        return (f"NOT ({sql})" if negate else sql), params

    def compare_bounds(
        self, a: tuple[Any, bool], op: str, b: tuple[Any, bool], period: Period
    ) -> Sql:
        """One end against another; an open end ('..') is minus or plus infinity."""
        (left, left_start), (right, right_start) = a, b
        if left is not None and right is not None:
            (ls, lp), (rs, rp) = self.value(left), self.value(right)
            return f"{ls} {op} {rs}", lp + rp
        rank_left = _rank(left, left_start)
        rank_right = _rank(right, right_start)
        truth = {
            "<": rank_left < rank_right,
            ">": rank_left > rank_right,
            "=": rank_left == rank_right,
            "<=": rank_left <= rank_right,
            ">=": rank_left >= rank_right,
        }[op]
        known = left if left is not None else right
        if known is None or isinstance(known, Literal):
            return ("TRUE" if truth else "FALSE"), []
        sql, params = self.value(known)  # a missing value stays unknown
        return (f"({sql} IS NOT NULL OR NULL)" if truth else f"({sql} IS NULL AND NULL)"), params


def _rank(bound: Any, is_start: bool) -> int:
    """Order of an end for comparisons with an open end: -inf < any value < +inf."""
    if bound is not None:
        return 0
    return -1 if is_start else 1


def where_clause(predicate: Predicate, collection: CollectionInfo, dialect: Dialect) -> Sql:
    return Translator(collection, dialect).predicate(predicate)

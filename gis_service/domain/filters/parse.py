"""CQL2 (text or JSON) -> a checked expression tree for one collection.

cql2-text is parsed by the `cql2` library (cql2-rs) into the cql2-json tree; JSON is read
with orjson. The tree is then validated here: only the operators below exist, properties
are looked up among the collection's queryables, and types must agree.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from typing import Any

import numpy as np
import orjson
import shapely

from ..collection import CollectionInfo
from ..values import refuse_nul
from . import text
from .ast import (
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
from .guard import check_size_and_depth, check_tree_depth, parse_text
from .literals import Geometries, bad, number, parse_date, parse_instant, parse_timestamp
from .queryables import resolve

LANGUAGES = ("cql2-text", "cql2-json")
COMPARISONS = {"=", "<>", "<", ">", "<=", ">="}
ARITHMETIC = {"+", "-", "*", "/", "%", "div", "^"}
_SPATIAL_NAMES = "intersects equals disjoint touches within overlaps crosses contains"
_TEMPORAL_NAMES = (
    "after before contains disjoint during equals finishedby finishes intersects meets metby"
    " overlappedby overlaps startedby starts"
)
SPATIAL = {f"s_{name}" for name in _SPATIAL_NAMES.split()}
TEMPORAL = {f"t_{name}" for name in _TEMPORAL_NAMES.split()}
MAX_VALUES = 5_000
_CONVERSE = {"within": "contains", "contains": "within"}


def to_json(source: str, lang: str) -> Any:
    """The cql2-json tree of a filter, after the cheap guards (cql2-rs crashes on deep input)."""
    check_size_and_depth(source, lang)
    if lang == "cql2-json":
        try:
            tree = orjson.loads(source)
        except orjson.JSONDecodeError as exc:
            raise bad(f"not valid JSON: {exc}") from exc
    else:
        tree = parse_text(source)
    check_tree_depth(tree)
    return tree


class Checker:
    """Walks a cql2-json tree once, building typed nodes."""

    def __init__(
        self, info: CollectionInfo, to_crs84: Callable[[np.ndarray], np.ndarray] | None = None
    ) -> None:
        self.info = info
        self.geometries = Geometries(to_crs84)
        self.values = 0  # each literal becomes a bound parameter; engines cap their number

    # -- predicates -------------------------------------------------------------------
    def predicate(self, node: Any) -> Predicate:
        if isinstance(node, bool):
            return Const(node)
        if isinstance(node, dict) and "property" in node:
            prop = self.expr(node)
            if prop.kind is not Kind.BOOLEAN:
                raise bad(f"property {node['property']!r} is not a boolean, so not a condition")
            return Compare("=", prop, Literal(True, Kind.BOOLEAN))
        if not isinstance(node, dict) or "op" not in node:
            raise bad(f"expected a condition, got {_show(node)}")
        op, args = _op_args(node)
        if op in ("and", "or"):
            if len(args) < 2:
                raise bad(f"{op.upper()} needs at least two operands")
            items = tuple(self.predicate(a) for a in args)
            return And(items) if op == "and" else Or(items)
        if op == "not":
            _arity(op, args, 1)
            return Not(self.predicate(args[0]))
        if op in COMPARISONS:
            _arity(op, args, 2)
            left, right = self.comparable(op, self.expr(args[0]), self.expr(args[1]))
            return Compare(op, left, right)
        if op == "like":
            return self.like(args)
        if op == "between":
            _arity(op, args, 3)
            value = self.expr(args[0])
            value, low = self.comparable(op, value, self.expr(args[1]))
            value, high = self.comparable(op, value, self.expr(args[2]))
            return Between(value, low, high)
        if op == "in":
            _arity(op, args, 2)
            if not isinstance(args[1], list) or not args[1]:
                raise bad("IN needs a non-empty list of values")
            value = self.expr(args[0])
            items = tuple(self.comparable(op, value, self.expr(a))[1] for a in args[1])
            return In(value, items)
        if op == "isnull":
            _arity("IS NULL", args, 1)
            return IsNull(self.expr(args[0]))
        if op in SPATIAL:
            return self.spatial(op[2:], args)
        if op in TEMPORAL:
            _arity(op.upper(), args, 2)
            return self.temporal(op[2:], self.period(args[0]), self.period(args[1]))
        if op.startswith("a_"):
            raise bad(f"array functions ({op.upper()}) are not supported")
        if op in ARITHMETIC or op in ("casei", "accenti"):
            raise bad(f"{op!r} gives a value, not a condition")
        raise bad(f"unknown function or operator {op!r}")

    # -- values -----------------------------------------------------------------------
    def expr(self, node: Any) -> Expr:
        self.values += 1
        if self.values > MAX_VALUES:
            raise bad(f"has more than {MAX_VALUES} values")
        if isinstance(node, bool):
            return Literal(node, Kind.BOOLEAN)
        if isinstance(node, int | float):
            value = number(node)
            return Literal(value, Kind.INTEGER if isinstance(value, int) else Kind.NUMBER)
        if isinstance(node, str):  # every string literal passes here, LIKE patterns too
            return Literal(refuse_nul("filter", node), Kind.STRING)
        if isinstance(node, list):
            raise bad("arrays are not supported")
        if not isinstance(node, dict):
            raise bad(f"unexpected {_show(node)}")
        if "property" in node:
            name = node["property"]
            prop = resolve(self.info, name) if isinstance(name, str) else None
            if prop is None:
                raise bad(f"{name!r} is not a queryable of this collection (see its queryables)")
            return prop
        if "date" in node:
            return Literal(parse_date(node["date"]), Kind.DATE)
        if "timestamp" in node:
            return Literal(parse_timestamp(node["timestamp"]), Kind.TIMESTAMP)
        if "bbox" in node:
            return Literal(self.geometries.bbox(node["bbox"]), Kind.GEOMETRY)
        if "type" in node:
            return Literal(self.geometries.geojson(node), Kind.GEOMETRY)
        if "interval" in node:
            raise bad("an INTERVAL can only be an argument of a temporal function")
        if "op" not in node:
            raise bad(f"unexpected {_show(node)}")
        op, args = _op_args(node)
        if op in ("casei", "accenti"):
            _arity(op.upper(), args, 1)
            arg = self.expr(args[0])
            if arg.kind is not Kind.STRING:
                raise bad(f"{op.upper()} takes a string, not a {arg.kind}")
            if isinstance(arg, Literal):
                fold = text.casei if op == "casei" else text.accenti
                return Literal(fold(arg.value), Kind.STRING)
            return Fold(op, arg)
        if op in ARITHMETIC:
            _arity(op, args, 2)
            left, right = self.expr(args[0]), self.expr(args[1])
            for side in (left, right):
                if not side.kind.numeric:
                    raise bad(f"arithmetic ({op}) needs numbers, got a {side.kind}")
            integral = left.kind is right.kind is Kind.INTEGER and op not in ("/", "^")
            return Arith(op, left, right, Kind.INTEGER if integral else Kind.NUMBER)
        if op in SPATIAL or op in TEMPORAL or op in COMPARISONS or op in ("and", "or", "not"):
            raise bad(f"{op!r} is a condition, not a value")
        if op.startswith("a_"):
            raise bad(f"array functions ({op.upper()}) are not supported")
        raise bad(f"unknown function {op!r}")

    def comparable(self, op: str, left: Expr, right: Expr) -> tuple[Expr, Expr]:
        """Both sides of a comparison, a string literal read as the other side's date/time."""
        left, right = _coerce(left, right.kind), _coerce(right, left.kind)
        if left.kind.numeric and right.kind.numeric:
            return left, right
        if left.kind is Kind.GEOMETRY or right.kind is Kind.GEOMETRY:
            raise bad(f"geometries cannot be compared with {op.upper()}: use S_EQUALS and friends")
        if left.kind is not right.kind:
            raise bad(f"cannot compare a {left.kind} with a {right.kind} ({op.upper()})")
        return left, right

    def like(self, args: list[Any]) -> Like:
        _arity("LIKE", args, 2)
        value = self.expr(args[0])
        if value.kind is not Kind.STRING:
            raise bad(f"LIKE needs a string on the left, not a {value.kind}")
        pattern = self.expr(args[1])
        if not isinstance(pattern, Literal) or pattern.kind is not Kind.STRING:
            raise bad("the LIKE pattern must be a string literal (optionally in CASEI/ACCENTI)")
        escaped = False
        for char in pattern.value:
            escaped = not escaped and char == "\\"
        if escaped:
            raise bad("the LIKE pattern ends with an escape character '\\'")
        return Like(value, pattern.value)

    def spatial(self, name: str, args: list[Any]) -> Predicate:
        _arity(f"S_{name.upper()}", args, 2)
        left, right = self.expr(args[0]), self.expr(args[1])
        for side in (left, right):
            if side.kind is not Kind.GEOMETRY:
                raise bad(f"S_{name.upper()} compares geometries, got a {side.kind}")
        if isinstance(left, Literal) and isinstance(right, Literal):
            return Const(bool(getattr(shapely, name)(left.value, right.value)))
        if isinstance(left, Prop) and isinstance(right, Literal):
            return Spatial(name, right.value)
        if isinstance(left, Literal) and isinstance(right, Prop):
            return Spatial(_CONVERSE.get(name, name), left.value)
        raise bad(f"S_{name.upper()} compares the geometry with a geometry literal")

    # -- time -------------------------------------------------------------------------
    def period(self, node: Any) -> Period:
        if isinstance(node, dict) and "interval" in node:
            bounds = node["interval"]
            if not isinstance(bounds, list) or len(bounds) != 2:
                raise bad("INTERVAL needs two bounds")
            start, end = (self.bound(b) for b in bounds)
            kinds = {b.kind for b in (start, end) if b is not None}
            if start is None and end is None:
                raise bad("INTERVAL('..', '..') has no closed end")
            if len(kinds) > 1:
                start, end = _promote(start, True), _promote(end, False)
            kind = Kind.TIMESTAMP if Kind.TIMESTAMP in kinds else Kind.DATE
            if isinstance(start, Literal) and isinstance(end, Literal) and start.value > end.value:
                raise bad("an INTERVAL's start is after its end")
            return Period(start, end, kind)
        value = self.expr(node)
        if isinstance(value, Literal) and value.kind is Kind.STRING:
            value = _instant(value.value)
        if not isinstance(value, Prop | Literal) or not value.kind.temporal:
            raise bad(
                f"temporal functions compare dates, timestamps and intervals, not {_show(node)}"
            )
        return Period(value, value, value.kind)

    def bound(self, node: Any) -> Prop | Literal | None:
        if node == "..":
            return None
        value = _instant(node) if isinstance(node, str) else self.expr(node)
        if not isinstance(value, Prop | Literal) or not value.kind.temporal:
            raise bad(f"an INTERVAL bound must be a date, a timestamp or '..', not {_show(node)}")
        return value

    def temporal(self, name: str, left: Period, right: Period) -> Temporal:
        if left.kind is not right.kind:
            left, right = _promote_period(left), _promote_period(right)
        return Temporal(name, left, right)


def _instant(text_value: str) -> Literal:
    value = parse_instant(text_value)
    return Literal(value, Kind.TIMESTAMP if isinstance(value, datetime) else Kind.DATE)


def _promote(bound: Prop | Literal | None, start: bool) -> Prop | Literal | None:
    """A date among timestamps stands for its whole day (UTC): its first or last moment."""
    if bound is None or bound.kind is Kind.TIMESTAMP:
        return bound
    if isinstance(bound, Prop):
        raise bad("a date property cannot be compared with timestamps; compare with dates")
    moment = datetime.combine(bound.value, time.min, tzinfo=UTC)
    if not start:
        moment += timedelta(days=1, milliseconds=-1)
    return Literal(moment, Kind.TIMESTAMP)


def _promote_period(period: Period) -> Period:
    if period.kind is Kind.TIMESTAMP:
        return period
    return Period(_promote(period.start, True), _promote(period.end, False), Kind.TIMESTAMP)


def _coerce(value: Expr, kind: Kind) -> Expr:
    """'2022-04-16' beside a date (or a timestamp string beside a timestamp) is one."""
    if isinstance(value, Literal) and value.kind is Kind.STRING and kind.temporal:
        parse = parse_date if kind is Kind.DATE else parse_timestamp
        return Literal(parse(value.value), kind)
    return value


def _op_args(node: dict[str, Any]) -> tuple[str, list[Any]]:
    op, args = node.get("op"), node.get("args", [])
    if not isinstance(op, str) or not isinstance(args, list):
        raise bad("an operation needs 'op' (a string) and 'args' (a list)")
    return op.lower(), args


def _arity(op: str, args: list[Any], count: int) -> None:
    if len(args) != count:
        raise bad(f"{op.upper()} takes {count} argument(s), got {len(args)}")


def _show(node: Any) -> str:
    shown = (
        orjson.dumps(node, option=orjson.OPT_NON_STR_KEYS).decode() if node is not None else "null"
    )
    return shown if len(shown) <= 60 else shown[:57] + "..."


def check(info: CollectionInfo, tree: Any, to_crs84: Any = None) -> Predicate:
    return Checker(info, to_crs84).predicate(tree)

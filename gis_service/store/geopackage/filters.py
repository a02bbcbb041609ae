"""CQL2 on the GeoPackage store: the dialect's filter pieces and the SQL functions behind them.

SQLite has no spatial predicates, no Unicode case folding and a case-insensitive LIKE, so
those are registered Python functions (Shapely/GEOS for geometry, as PostGIS uses), and
LIKE becomes GLOB (case-sensitive, native). A spatial test first asks the R-tree for the
literal's envelope, so only candidates reach Python.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections import OrderedDict
from typing import Any

import shapely

from ...domain.collection import PropertyType
from ...domain.filters import text
from ...errors import QueryTimeout
from ..sql import quote
from . import encoding

Sql = tuple[str, list[Any]]
_SYMMETRIC = {"intersects", "disjoint", "equals", "touches", "overlaps"}


def like_to_glob(pattern: str) -> str:
    """CQL2 LIKE (% _ and \\ escapes) as a GLOB pattern, which is case-sensitive."""
    out: list[str] = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            char = next(chars, "\\")
            out.append(f"[{char}]" if char in "*?[" else char)
        elif char == "%":
            out.append("*")
        elif char == "_":
            out.append("?")
        elif char in "*?[":
            out.append(f"[{char}]")
        else:
            out.append(char)
    return "".join(out)


class GpkgFilterDialect:
    """Mixed into `GpkgDialect`; needs its `layout`."""

    layout: Any

    @property
    def geometry_column(self) -> str:
        return quote(self.layout.geom)

    def typed_placeholder(self, kind: PropertyType) -> str:
        return "?"

    def text_order(self, sql: str) -> str:
        return sql  # BINARY collation: UTF-8 byte order is code point order

    def text_index_condition(self, column: str, values: list[str]) -> str | None:
        return None  # SQLite's B-trees hold text of any length

    def fold(self, function: str, sql: str, params: list[Any]) -> Sql:
        return f"gis_{function}({sql})", params

    def like(self, sql: str, pattern: str) -> Sql:
        return f"{sql} GLOB ?", [like_to_glob(pattern)]

    def arithmetic(self, op: str, left: Sql, right: Sql, integral: bool) -> Sql:
        (a, ap), (b, bp) = left, right
        params = ap + bp
        if op in ("+", "-", "*"):
            return f"({a} {op} {b})", params
        if op == "/":
            return f"(CAST({a} AS REAL) / NULLIF({b}, 0))", params
        if op == "div" and integral:
            return f"({a} / NULLIF({b}, 0))", params
        if op == "div":
            return f"CAST(CAST({a} AS REAL) / NULLIF({b}, 0) AS INTEGER)", params
        if op == "%" and integral:
            return f"({a} % NULLIF({b}, 0))", params
        if op == "%":
            return f"gis_fmod({a}, {b})", params
        return f"gis_pow({a}, {b})", params

    def spatial(self, op: str, literal: Any) -> Sql:
        g, fid = quote(self.layout.geom), quote(self.layout.fid)
        test = f"gis_spatial(?, {g}, ?)"
        params: list[Any] = [op, shapely.to_wkb(literal)]
        if op == "disjoint":
            return test, params
        minx, miny, maxx, maxy = literal.bounds
        return (
            f"{fid} IN (SELECT id FROM {self.layout.rtree} WHERE minx <= ? AND maxx >= ?"
            f" AND miny <= ? AND maxy >= ?) AND {test}",
            [maxx, minx, maxy, miny, *params],
        )


_literals: OrderedDict[bytes, Any] = OrderedDict()


def _literal(wkb: bytes) -> Any:
    """The literal as a prepared geometry, kept across rows (and requests) in a small cache."""
    geom = _literals.get(wkb)
    if geom is None:
        geom = shapely.from_wkb(wkb)
        shapely.prepare(geom)
        _literals[wkb] = geom
        if len(_literals) > 64:
            _literals.popitem(last=False)
    return geom


def spatial(op: str, blob: bytes | None, wkb: bytes) -> int | None:
    if blob is None:
        return None
    geom = shapely.from_wkb(encoding.wkb_of(blob))
    literal = _literal(wkb)
    if op in _SYMMETRIC:
        return int(getattr(shapely, op)(literal, geom))
    if op == "within":
        return int(shapely.contains(literal, geom))
    if op == "contains":
        return int(shapely.within(literal, geom))
    return int(getattr(shapely, op)(geom, literal))


def fmod(a: float | None, b: float | None) -> float | None:
    """a - b * trunc(a / b), the same float steps PostgreSQL's expression takes."""
    if a is None or b is None or b == 0:
        return None
    return a - b * float(math.trunc(a / b))


def power(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    try:
        return math.pow(a, b)
    except (OverflowError, ValueError):
        return None


def register_all(conn: sqlite3.Connection) -> None:
    """Every SQL function a GeoPackage connection of ours needs: the triggers' and CQL2's."""
    encoding.register_functions(conn)
    _register_cql2(conn)


def _register_cql2(conn: sqlite3.Connection) -> None:
    conn.create_function("gis_casei", 1, text.casei, deterministic=True)
    conn.create_function("gis_accenti", 1, text.accenti, deterministic=True)
    conn.create_function("gis_spatial", 3, spatial, deterministic=True)
    conn.create_function("gis_fmod", 2, fmod, deterministic=True)
    conn.create_function("gis_pow", 2, power, deterministic=True)


class Deadline:
    """Interrupts a query that runs past the statement timeout (as PostGIS's does)."""

    def __init__(self, conn: sqlite3.Connection, timeout_ms: int) -> None:
        self.conn, self.timeout_ms = conn, timeout_ms
        self.expired = False

    def __enter__(self) -> Deadline:
        if self.timeout_ms:
            end = time.monotonic() + self.timeout_ms / 1000

            def check() -> int:
                self.expired = time.monotonic() > end
                return int(self.expired)

            self.conn.set_progress_handler(check, 1_000)
        return self

    def __exit__(self, kind: Any, error: Any, tb: Any) -> None:
        if self.timeout_ms:
            self.conn.set_progress_handler(None, 0)
        if self.expired and isinstance(error, sqlite3.OperationalError):
            raise QueryTimeout(self.timeout_ms) from error

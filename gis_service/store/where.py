"""A feature query's WHERE: bbox, datetime, `?name=value` and the CQL2 filter, for both stores.

Values always travel as bound parameters; identifiers come only from the collection's
own schema, quoted, never from the request.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ..domain.collection import CollectionInfo, PropertyType
from ..domain.query import FeatureQuery, TimeInterval
from ..domain.values import fits_int64
from .filter_sql import where_clause
from .sql import Dialect, Where


def _bound(value: datetime, kind: PropertyType) -> date | datetime:
    return value.date() if kind is PropertyType.DATE else value


def _temporal(
    collection: CollectionInfo, interval: TimeInterval, dialect: Dialect, where: Where
) -> None:
    """Features whose instant or interval intersects the query's.

    A feature with no time at all matches no `datetime` (OGC API Features Part 1,
    /req/core/fc-time-response: only features with a temporal geometry are selected). With
    START,END properties a missing end is open on that side, as `..` is in the query: an
    ongoing activity (a start, no end yet) intersects every interval after its start.
    """
    temporal = collection.temporal
    if temporal is None:
        return
    ph = dialect.placeholder
    start_prop = collection.prop(temporal.start)
    end_prop = collection.prop(temporal.end) if temporal.end else start_prop
    if start_prop is None or end_prop is None:
        return
    start_col = dialect.column(collection, start_prop.name)
    end_col = dialect.column(collection, end_prop.name)
    single = end_prop is start_prop
    parts: list[str] = [] if single else [f"{start_col} IS NOT NULL OR {end_col} IS NOT NULL"]
    params: list[Any] = []
    open_start, open_end = (
        ("", "") if single else (f"{start_col} IS NULL OR ", f"{end_col} IS NULL OR ")
    )
    if interval.end is not None:
        parts.append(f"{open_start}{start_col} <= {ph}")
        params.append(dialect.bind(_bound(interval.end, start_prop.type), start_prop.type))
    if interval.start is not None:
        parts.append(f"{open_end}{end_col} >= {ph}")
        params.append(dialect.bind(_bound(interval.start, end_prop.type), end_prop.type))
    where.add(" AND ".join(f"({p})" for p in parts), *params)


def _equals(
    collection: CollectionInfo, name: str, value: Any, dialect: Dialect, where: Where
) -> None:
    """`?name=value`: an integer no 64-bit column holds matches nothing, on both stores."""
    prop = collection.prop(name)
    assert prop is not None, name  # parse_equals checked it
    if prop.type is PropertyType.INTEGER and not fits_int64(value):
        where.add("FALSE")
        return
    column = dialect.column(collection, name)
    where.add(f"{column} = {dialect.placeholder}", dialect.bind(value, prop.type))
    if prop.type is PropertyType.STRING:
        hint = dialect.text_index_condition(column, [value])
        if hint is not None:
            where.add(hint)


def build_where(collection: CollectionInfo, query: FeatureQuery, dialect: Dialect) -> Where:
    """The filter part of a query, without paging."""
    where = Where()
    if query.bbox is not None:
        clause, params = dialect.bbox_condition(query.bbox, collection, query.bbox_exact)
        where.add(clause, *params)
    if query.interval is not None:
        _temporal(collection, query.interval, dialect, where)
    for name, value in query.equals.items():
        _equals(collection, name, value, dialect, where)
    if query.filter is not None:
        clause, params = where_clause(query.filter, collection, dialect)
        where.add(clause, *params)
    if query.fids is not None:
        if query.fids:
            marks = ", ".join([dialect.placeholder] * len(query.fids))
            where.add(f"{dialect.fid} IN ({marks})", *query.fids)
        else:
            where.add("FALSE")
    return where

"""Keyset paging over any row source, so both stores page identically and fast at any depth.

A page is a plan (see `rows`): the stores run it on their own connections, blocking or async.
"""

from __future__ import annotations

from ..domain.collection import CollectionInfo
from ..domain.filters.ast import properties_of
from ..domain.query import FeatureQuery
from ..errors import InvalidParameter
from .base import FeaturePage
from .counts import MISSING, CountCache, count_key
from .rows import Plan, SqlRows
from .sorting import Ordering
from .sql import Dialect, Where


def run_page(
    source: SqlRows,
    collection: CollectionInfo,
    query: FeatureQuery,
    where: Where,
    count_cap: int,
    dialect: Dialect,
    counts: CountCache | None = None,
) -> Plan[FeaturePage]:
    """One page plus whether neighbours exist, and the number matched (capped)."""
    key = None
    if query.filtered and counts is not None and source.generation is not None:
        key = count_key(source.generation, where.sql(), where.params, count_cap)
    if key is not None and counts is not None and counts.peek(key) == 0:
        # Known to match nothing: looking for a page would walk every candidate row again.
        return FeaturePage([], 0, has_next=False, has_prev=not query.cursor and query.offset > 0)
    if query.sortby:
        ordering = Ordering(collection, query.sortby, dialect)
        page = yield from _sorted_page(source, ordering, query, where)
    else:
        page = yield from _id_page(source, query, where)
    if not query.filtered:
        page.number_matched = collection.feature_count
    elif key is None or counts is None:
        page.number_matched = yield from source.count(where, count_cap)
    else:  # counted once per generation and selection
        found = counts.peek(key)
        if found is MISSING:
            found = yield from source.count(where, count_cap)
            counts.put(key, found)
        page.number_matched = found  # type: ignore[assignment]
    return page


def _id_page(source: SqlRows, query: FeatureQuery, where: Where) -> Plan[FeaturePage]:
    """In id order; the cursor is the last (or first) id seen."""
    limit, cursor = query.limit, query.cursor
    if cursor is None:
        rows = yield from source.select(
            where, after=None, before=None, descending=False, limit=limit + 1, offset=query.offset
        )
        has_next, rows = len(rows) > limit, rows[:limit]
        has_prev = query.offset > 0
    elif cursor.after:
        rows = yield from source.select(
            where, after=cursor.fid, before=None, descending=False, limit=limit + 1, offset=0
        )
        has_next, rows = len(rows) > limit, rows[:limit]
        pivot = rows[0].fid if rows else cursor.fid + 1
        has_prev = yield from source.exists(where, after=None, before=pivot)
    else:
        rows = yield from source.select(
            where, after=None, before=cursor.fid, descending=True, limit=limit + 1, offset=0
        )
        has_prev, rows = len(rows) > limit, rows[:limit][::-1]
        pivot = rows[-1].fid if rows else cursor.fid - 1
        has_next = yield from source.exists(where, after=pivot, before=None)
    return FeaturePage(rows, None, has_next=has_next, has_prev=has_prev)


def _sorted_page(
    source: SqlRows, ordering: Ordering, query: FeatureQuery, where: Where
) -> Plan[FeaturePage]:
    """As above in an explicit order; cursors carry the sort values of their row."""
    limit, cursor = query.limit, query.cursor
    if cursor is None:
        rows = yield from source.select_sorted(
            where, ordering.order_by(), None, limit + 1, query.offset
        )
        has_next, rows = len(rows) > limit, rows[:limit]
        return FeaturePage(rows, None, has_next=has_next, has_prev=query.offset > 0)
    ordering.check(cursor.keys)
    reverse = not cursor.after
    beyond = ordering.beyond(cursor.keys, cursor.fid, reverse=reverse)
    rows = yield from source.select_sorted(
        where, ordering.order_by(reverse=reverse), beyond, limit + 1, 0
    )
    more, rows = len(rows) > limit, rows[:limit]
    if reverse:
        rows = rows[::-1]
    if rows:
        edge = rows[-1] if reverse else rows[0]
        back = ordering.beyond(ordering.position(edge), edge.fid, reverse=not reverse)
    else:
        back = ordering.beyond(cursor.keys, cursor.fid, reverse=cursor.after)
    other = yield from source.exists_beyond(where, back)
    if reverse:
        return FeaturePage(rows, None, has_next=other, has_prev=more)
    return FeaturePage(rows, None, has_next=more, has_prev=other)


def check_filters(info: CollectionInfo, query: FeatureQuery) -> None:
    """An older version may lack a property the current one has: a 400, not a SQL error."""
    in_filter = properties_of(query.filter) if query.filter is not None else set()
    for name in sorted(in_filter):
        if info.prop(name) is None:
            detail = f"{name!r} is not a property of version {info.version}"
            raise InvalidParameter("filter", detail)
    for name in [*query.equals, *(key.name for key in query.sortby)]:
        if info.prop(name) is None:
            raise InvalidParameter(name, f"not a property of version {info.version}")

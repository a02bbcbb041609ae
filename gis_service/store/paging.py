"""Keyset paging over any row source, so both stores page identically and fast at any depth."""

from __future__ import annotations

from ..domain.collection import CollectionInfo
from ..domain.query import FeatureQuery
from ..errors import InvalidParameter
from .base import FeaturePage
from .rows import SqlRows
from .sql import Where


def run_page(
    source: SqlRows,
    collection: CollectionInfo,
    query: FeatureQuery,
    where: Where,
    count_cap: int,
) -> FeaturePage:
    """One page plus whether neighbours exist; the cursor is the last (or first) id seen."""
    limit = query.limit
    cursor = query.cursor
    if cursor is None:
        rows = source.select(
            where, after=None, before=None, descending=False, limit=limit + 1, offset=query.offset
        )
        has_next, rows = len(rows) > limit, rows[:limit]
        has_prev = query.offset > 0
    elif cursor.after:
        rows = source.select(
            where, after=cursor.fid, before=None, descending=False, limit=limit + 1, offset=0
        )
        has_next, rows = len(rows) > limit, rows[:limit]
        pivot = rows[0].fid if rows else cursor.fid + 1
        has_prev = source.exists(where, after=None, before=pivot)
    else:
        rows = source.select(
            where, after=None, before=cursor.fid, descending=True, limit=limit + 1, offset=0
        )
        has_prev, rows = len(rows) > limit, rows[:limit][::-1]
        pivot = rows[-1].fid if rows else cursor.fid - 1
        has_next = source.exists(where, after=pivot, before=None)
    matched = source.count(where, count_cap) if query.filtered else collection.feature_count
    return FeaturePage(features=rows, number_matched=matched, has_next=has_next, has_prev=has_prev)


def check_filters(info: CollectionInfo, query: FeatureQuery) -> None:
    """An older version may lack a property the current one has: a 400, not a SQL error."""
    for name in query.equals:
        if info.prop(name) is None:
            raise InvalidParameter(name, f"not a property of version {info.version}")

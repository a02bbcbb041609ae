"""Downloads from PostGIS: a server-side cursor on a pool connection held for the stream.

A named cursor inside a transaction keeps the server from sending (and psycopg from
holding) the whole selection: each `fetchmany` is one FETCH of a batch. The transaction
also pins the table being read, so a concurrent replace never changes a download midway.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from datetime import date
from functools import partial
from typing import Any

import psycopg

from ...domain.collection import CollectionInfo, PropertyType
from ...domain.query import FeatureQuery
from ...domain.values import output_value
from ...errors import CollectionNotFound
from .. import streaming
from ..paging import check_filters
from ..sorting import selection_sql
from ..streaming import ExportBatch, FeatureStream
from ..where import build_where
from .host import Host
from .pool import StorePool
from .query import PgDialect, PgRows

# psycopg already gives ints, strings and bools as GeoJSON has them.
_CONVERTED = (PropertyType.DATE, PropertyType.DATETIME, PropertyType.NUMBER)


def columnar(info: CollectionInfo, query: FeatureQuery) -> bool:
    """The whole layer is read by columns, a few values per batch (`store.columnar`)."""
    from ..columnar import columnar as readable

    return readable(info, query)


def open_stream(
    store: Host, collection: CollectionInfo, query: FeatureQuery, limit: int | None
) -> FeatureStream:
    stack = ExitStack()
    try:
        conn = stack.enter_context(store.pool.connection())
        stack.enter_context(conn.transaction())
        table, info = store.lookup(conn, collection.id, query.version)
        check_filters(info, query)
        if columnar(info, query):
            from . import whole_layer

            columns = whole_layer.batches(conn, table, info, limit)
            columns = _guarded(columns, conn, store.pool)
            return FeatureStream(info, streaming.Prefetch(columns), stack.close)
        sql, params = _selection(table, info, query, limit)
        cursor = stack.enter_context(conn.cursor(name=f"download_{uuid.uuid4().hex}"))
        try:
            cursor.execute(sql, params)
        except psycopg.errors.UndefinedTable:
            raise CollectionNotFound(collection.id) from None  # deleted after the lookup
    except BaseException as exc:
        stack.__exit__(type(exc), exc, exc.__traceback__)  # rolls back
        raise
    batches = _guarded(_batches(cursor, info), conn, store.pool)
    # The next FETCH runs (the server working, psycopg parsing) while a batch is encoded.
    return FeatureStream(info, streaming.Prefetch(batches), stack.close)


def read_selection(store: Host, collection: CollectionInfo, query: FeatureQuery) -> list:
    """A tile's selection at once: one plain query on a pool connection (a named cursor,
    its FETCHes and a prefetch thread cost more than a few thousand rows)."""
    with store.pool.connection() as conn, conn.transaction():
        table, info = store.lookup(conn, collection.id, query.version)
        check_filters(info, query)
        sql, params = _selection(table, info, query, None)
        try:
            cursor = conn.execute(sql, params)
        except psycopg.errors.UndefinedTable:
            raise CollectionNotFound(collection.id) from None  # deleted after the lookup
        return list(_batches(cursor, info))


def _selection(
    table: str, info: CollectionInfo, query: FeatureQuery, limit: int | None
) -> tuple[str, list[Any]]:
    rows = PgRows(table, info)
    dialect = PgDialect(info)
    where = build_where(info, query, dialect)
    return selection_sql(rows.select_sql, where, info, query, dialect, limit)


def _batches(cursor: Any, info: CollectionInfo) -> Iterator[ExportBatch]:
    conversions = {p.name: _converter(p.type) for p in info.properties if p.type in _CONVERTED}
    return streaming.batches(cursor, [p.name for p in info.properties], list, conversions)


def _guarded(
    batches: Iterator[ExportBatch], conn: psycopg.Connection, pool: StorePool
) -> Iterator[ExportBatch]:
    """A server lost midway ends the stream with StoreUnavailable (the response, already
    started, is cut off); the broken connection is discarded when the stream closes."""
    try:
        yield from batches
    except psycopg.Error as exc:
        if not pool.lost(exc, conn):
            raise
        raise pool.reach.failed(exc) from exc


def _converter(kind: PropertyType) -> Callable[[Any], Any]:
    if kind is PropertyType.DATE:
        return date.isoformat  # psycopg gives `date`s: one C call, as output_value writes
    return partial(output_value, kind=kind)

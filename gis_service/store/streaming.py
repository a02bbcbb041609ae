"""Whole selections for downloads: batches of rows from one connection held for the stream.

A download may hold millions of features, so it never becomes a list: the store runs one
query on a connection of its own (never a request thread's) and hands out a few thousand
rows at a time, column by column, with values already in their GeoJSON form so that
both stores feed the format writers identical batches.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from ..domain.collection import CollectionInfo
from ..domain.query import FeatureQuery
from .sorting import Ordering
from .sql import Dialect, Where

#: Rows per batch: large enough for vectorised work, small enough for flat memory.
BATCH_ROWS = 5000

Conversion = Callable[[Any], Any]


@dataclass
class ExportBatch:
    """Consecutive features of a selection: ids, WKB geometries (EPSG:4326), columns."""

    fids: list[int]
    wkbs: list[bytes | None]
    columns: dict[str, list[Any]]

    def __len__(self) -> int:
        return len(self.fids)


class FeatureStream:
    """An open selection: iterate for batches; `close` releases the connection, always.

    `info` describes the generation actually read (a `version` may differ from the
    current one). Closing early (a client that went away) is normal.
    """

    def __init__(
        self, info: CollectionInfo, batches: Iterator[ExportBatch], release: Callable[[], None]
    ) -> None:
        self.info = info
        self._batches = batches
        self._release: Callable[[], None] | None = release

    def __iter__(self) -> Iterator[ExportBatch]:
        return self._batches

    def close(self) -> None:
        release, self._release = self._release, None
        if release is None:
            return
        try:
            close = getattr(self._batches, "close", None)
            if close is not None:
                close()
        finally:
            release()

    def __enter__(self) -> FeatureStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Cursor(Protocol):
    def fetchmany(self, size: int = ...) -> list[tuple[Any, ...]]: ...


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


def batches(
    cursor: Cursor,
    names: list[str],
    wkb: Conversion,
    conversions: dict[str, Conversion],
    size: int = BATCH_ROWS,
) -> Iterator[ExportBatch]:
    """Rows (fid, geometry, *properties) fetched `size` at a time, turned into columns."""
    while rows := cursor.fetchmany(size):
        columns = list(zip(*rows, strict=True))
        props: dict[str, list[Any]] = {}
        for name, values in zip(names, columns[2:], strict=True):
            convert = conversions.get(name)
            if convert is None:
                props[name] = list(values)
            else:
                props[name] = [None if v is None else convert(v) for v in values]
        wkbs = [None if g is None else wkb(g) for g in columns[1]]
        yield ExportBatch(fids=list(columns[0]), wkbs=wkbs, columns=props)

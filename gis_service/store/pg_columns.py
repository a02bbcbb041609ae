"""Whole-layer downloads from PostGIS, read as columns: one row per batch, not per feature.

A row per feature costs psycopg (and COPY's per-row messages alike) over a microsecond
each. Instead each batch is one statement whose answer is a handful of values: per
column, all its values concatenated (`string_agg`) beside their byte lengths as a binary
int4 array (`array_send`, -1 for NULL), which numpy and Arrow split without a Python
object per value. Keyset batches by `fid` keep each statement an index range scan.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.compute as pc

from ..domain.collection import CollectionInfo, PropertyType
from .columnar import BATCH_ROWS, ColumnarBatch, binary_from_parts
from .pg_query import column_name
from .sql import quote

_ARRAY_HEADER = 20  # ndim, flags, element type, then one dimension's size and lower bound
_INT4S = np.dtype([("size", ">i4"), ("value", ">i4")])
_INT8S = np.dtype([("size", ">i4"), ("value", ">i8")])


def _text(kind: PropertyType, column: str) -> str:
    """SQL for a column's values as text the batch column is parsed from."""
    if kind is PropertyType.NUMBER:  # the shortest exact digits (extra_float_digits >= 1)
        special = "('NaN', 'Infinity', '-Infinity')"
        return f"CASE WHEN {column} IN {special} THEN NULL ELSE {column}::text END"
    if kind is PropertyType.BOOLEAN:
        return f"CASE WHEN {column} THEN 't' WHEN NOT {column} THEN 'f' END"
    if kind is PropertyType.DATE:
        return f"{column}::text"  # YYYY-MM-DD with DateStyle ISO
    return f"{column}::text"


def batch_sql(table: str, info: CollectionInfo) -> str:
    """One batch after a given fid (parameters: that fid, the batch's size)."""
    inner = ['"fid"', 'ST_AsBinary("geom") AS g']
    outer = ["array_send(array_agg(fid))", "string_agg(g, ''::bytea)", _lengths("g")]
    for i, prop in enumerate(info.properties):
        inner.append(f"{_text(prop.type, quote(column_name(i)))} AS c{i}")
        outer += [f"convert_to(string_agg(c{i}, ''), 'UTF8')", _lengths(f"c{i}")]
    return (
        f"SELECT {', '.join(outer)} FROM (SELECT {', '.join(inner)} FROM {table}"
        ' WHERE "fid" > %s ORDER BY "fid" LIMIT %s) AS s'
    )


def _lengths(column: str) -> str:
    return f"array_send(array_agg(coalesce(octet_length({column}), -1)))"


def batches(
    conn: psycopg.Connection, table: str, info: CollectionInfo, limit: int | None
) -> Iterator[ColumnarBatch]:
    """The layer in id order, `BATCH_ROWS` features per statement, inside the caller's
    transaction (which holds the table: a replace never drops it midway)."""
    conn.execute("SET LOCAL DateStyle = 'ISO'")
    conn.execute("SET LOCAL extra_float_digits = 1")
    sql = batch_sql(table, info)
    cursor = conn.cursor(binary=True)
    last, left = -(2**63), limit
    while left is None or left > 0:
        size = BATCH_ROWS if left is None else min(BATCH_ROWS, left)
        row = cursor.execute(sql, [last, size]).fetchone()
        if row is None or row[0] is None:
            return
        batch = _batch(row, info)
        ids = batch.fid_array.to_numpy()
        if ids[0] <= last or (np.diff(ids) <= 0).any():
            raise RuntimeError("a batch's aggregates came out of id order")  # never seen
        last = int(ids[-1])
        if left is not None:
            left -= len(ids)
        yield batch
        if len(ids) < size:
            return


def _batch(row: tuple[bytes | None, ...], info: CollectionInfo) -> ColumnarBatch:
    fids = np.frombuffer(row[0], _INT8S, offset=_ARRAY_HEADER)["value"]  # type: ignore[arg-type]
    wkb = binary_from_parts(row[1] or b"", _sizes(row[2]), pa.binary())
    arrays: dict[str, pa.Array] = {}
    for i, prop in enumerate(info.properties):
        text = binary_from_parts(row[3 + 2 * i] or b"", _sizes(row[4 + 2 * i]), pa.string())
        arrays[prop.name] = _typed(text, prop.type)
    return ColumnarBatch(pa.array(fids.astype(np.int64)), wkb, arrays)


def _sizes(array: bytes | None) -> np.ndarray:
    return np.frombuffer(array, _INT4S, offset=_ARRAY_HEADER)["value"]  # type: ignore[arg-type]


def _typed(text: pa.Array, kind: PropertyType) -> pa.Array:
    if kind is PropertyType.INTEGER:
        return text.cast(pa.int64())
    if kind is PropertyType.NUMBER:
        return text.cast(pa.float64())
    if kind is PropertyType.BOOLEAN:
        return pc.equal(text, "t")
    return text

"""Download batches read as whole columns (Arrow arrays) instead of one tuple per row.

A whole-layer download spent most of its time turning rows into Python objects. The
columnar readers (`geopackage.whole_layer`, `postgis.whole_layer`) hand out
`ColumnarBatch`es whose arrays already hold what GeoJSON shows (dates as ISO text, NaN as
null); writers that know columns use them directly, every other writer gets the same lists
a row reader gives.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..domain.collection import CollectionInfo, PropertyType
from ..domain.query import FeatureQuery
from .streaming import ExportBatch

#: Rows per columnar batch: vectorised work pays off (~4 MB of GeoJSON); 64k rows cost
#: no less CPU but ~150 MB more peak memory (Arrow and GDAL buffers).
BATCH_ROWS = 16_384
#: Property types whose columns a columnar reader gives exactly as the row readers do.
COLUMNAR_TYPES = frozenset(
    {
        PropertyType.STRING,
        PropertyType.INTEGER,
        PropertyType.NUMBER,
        PropertyType.BOOLEAN,
        PropertyType.DATE,
    }
)
#: The Arrow type each property type's column has in a batch.
BATCH_TYPES: dict[PropertyType, pa.DataType] = {
    PropertyType.STRING: pa.string(),
    PropertyType.INTEGER: pa.int64(),
    PropertyType.NUMBER: pa.float64(),
    PropertyType.BOOLEAN: pa.bool_(),
    PropertyType.DATE: pa.string(),
}


def columnar(info: CollectionInfo, query: FeatureQuery) -> bool:
    """Whether a selection can be read by columns: the whole layer in id order."""
    return (
        not query.filtered
        and not query.sortby
        and all(p.type in COLUMNAR_TYPES for p in info.properties)
    )


class ColumnarBatch(ExportBatch):
    """A batch as Arrow arrays; `fids`, `wkbs` and `columns` are made on first use."""

    columnar = True

    def __init__(self, fid: pa.Array, wkb: pa.Array, arrays: dict[str, pa.Array]) -> None:
        self.fid_array = fid
        self.wkb_array = wkb
        self.arrays = arrays

    def __len__(self) -> int:
        return len(self.fid_array)

    def head(self, count: int) -> ColumnarBatch:
        """The first `count` features."""
        arrays = {name: array.slice(0, count) for name, array in self.arrays.items()}
        return ColumnarBatch(self.fid_array.slice(0, count), self.wkb_array.slice(0, count), arrays)

    @cached_property
    def fids(self) -> list[int]:  # type: ignore[override]
        return self.fid_array.to_pylist()

    @cached_property
    def wkbs(self) -> list[bytes | None]:  # type: ignore[override]
        return self.wkb_array.to_pylist()

    @cached_property
    def columns(self) -> dict[str, list[Any]]:  # type: ignore[override]
        return {name: array.to_pylist() for name, array in self.arrays.items()}


def as_batch_column(array: pa.Array, kind: PropertyType) -> pa.Array:
    """A reader's column in the batch's form (the row readers' values, as Arrow)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks()
    if kind is PropertyType.NUMBER:
        array = array.cast(pa.float64())
        finite = pc.is_finite(array)
        if not pc.all(pc.fill_null(finite, True)).as_py():
            array = pc.if_else(finite, array, pa.scalar(None, pa.float64()))
        return array
    if kind is PropertyType.BOOLEAN and not pa.types.is_boolean(array.type):
        return pc.not_equal(array, 0)
    if kind is PropertyType.DATE and not pa.types.is_string(array.type):
        return array.cast(pa.string())  # date32 -> YYYY-MM-DD, as date.isoformat
    return array.cast(BATCH_TYPES[kind])


def binary_from_parts(data: bytes, lengths: np.ndarray, kind: pa.DataType) -> pa.Array:
    """An Arrow string or binary array from concatenated values and their byte lengths
    (-1 for a null)."""
    nulls = lengths < 0
    sizes = np.where(nulls, 0, lengths).astype(np.int64)
    offsets = np.zeros(len(sizes) + 1, np.int64)
    np.cumsum(sizes, out=offsets[1:])
    if offsets[-1] != len(data):
        raise ValueError("column values and their lengths disagree")
    validity = None
    null_count = int(nulls.sum())
    if null_count:
        validity = pa.py_buffer(np.packbits(~nulls, bitorder="little"))
    large = pa.large_binary() if kind == pa.binary() else pa.large_string()
    array = pa.Array.from_buffers(
        large, len(sizes), [validity, pa.py_buffer(offsets), pa.py_buffer(data)], null_count
    )
    return array.cast(kind)

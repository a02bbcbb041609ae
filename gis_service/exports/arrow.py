"""Batches as Arrow record batches with typed columns, for GDAL and Parquet writers.

Dates become date32 and date-times UTC millisecond timestamps (the precision both stores
keep), integers stay int64, NULLs stay nulls; the geometry is a WKB binary column.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from ..domain.collection import PropertyType
from ..store.columnar import ColumnarBatch
from ..store.streaming import ExportBatch
from .selection import Export

ARROW_TYPES: dict[PropertyType, pa.DataType] = {
    PropertyType.STRING: pa.string(),
    PropertyType.INTEGER: pa.int64(),
    PropertyType.NUMBER: pa.float64(),
    PropertyType.BOOLEAN: pa.bool_(),
    PropertyType.DATE: pa.date32(),
    PropertyType.DATETIME: pa.timestamp("ms", tz="UTC"),
}
_FROM_TEXT = (PropertyType.DATE, PropertyType.DATETIME)


@dataclass(frozen=True)
class ArrowLayout:
    """Output column names: the id, each property (possibly renamed), the geometry."""

    schema: pa.Schema
    id_name: str
    geometry_name: str | None


def arrow_layout(
    export: Export,
    *,
    id_name: str,
    geometry_name: str,
    names: list[str] | None = None,
    geometry_metadata: dict[str, str] | None = None,
) -> ArrowLayout:
    """`names`: the properties' names in the output, when the format needs others."""
    fields = [pa.field(id_name, pa.int64(), nullable=False)]
    for prop, name in zip(export.properties, names or export.names, strict=True):
        fields.append(pa.field(name, ARROW_TYPES[prop.type]))
    if export.geometry:
        fields.append(pa.field(geometry_name, pa.binary(), metadata=geometry_metadata))
    return ArrowLayout(pa.schema(fields), id_name, geometry_name if export.geometry else None)


def record_batch(batch: ExportBatch, export: Export, layout: ArrowLayout) -> pa.RecordBatch:
    if isinstance(batch, ColumnarBatch) and export.crs is None:
        return _from_columns(batch, export, layout)
    arrays: list[pa.Array] = [pa.array(batch.fids, pa.int64())]
    for prop, values in zip(export.properties, export.values(batch), strict=True):
        kind = ARROW_TYPES[prop.type]
        if prop.type in _FROM_TEXT:  # ISO 8601 text, parsed by Arrow in C
            arrays.append(pa.array(values, pa.string()).cast(kind))
        else:
            arrays.append(pa.array(values, kind))
    if export.geometry:
        arrays.append(pa.array(export.wkbs(batch), pa.binary()))
    return pa.RecordBatch.from_arrays(arrays, schema=layout.schema)


def _from_columns(batch: ColumnarBatch, export: Export, layout: ArrowLayout) -> pa.RecordBatch:
    """The same record batch straight from a columnar batch's arrays (no Python values)."""
    arrays: list[pa.Array] = [batch.fid_array.cast(pa.int64())]
    for prop in export.properties:
        arrays.append(batch.arrays[prop.name].cast(ARROW_TYPES[prop.type]))
    if export.geometry:
        arrays.append(batch.wkb_array.cast(pa.binary()))
    return pa.RecordBatch.from_arrays(arrays, schema=layout.schema)

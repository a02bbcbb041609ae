"""GeoParquet 1.1 downloads: WKB geometry, `geo` metadata, written batch by batch."""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path

import pyarrow.parquet as pq
from pyproj import CRS

from ..store.streaming import ExportBatch
from .arrow import arrow_layout, record_batch
from .selection import Export, free_name

GEOPARQUET_VERSION = "1.1.0"


def geo_metadata(export: Export, column: str) -> dict:
    """The `geo` file metadata: one WKB column; the CRS as PROJJSON (CRS84 unless asked).

    `geometry_types` stays empty (allowed: "unknown"): a collection's type name does not
    say whether some geometries carry heights, which the list would have to spell out.
    """
    crs = CRS.from_user_input(export.crs.uri if export.crs else "OGC:CRS84")
    return {
        "version": GEOPARQUET_VERSION,
        "primary_column": column,
        "columns": {column: {"encoding": "WKB", "geometry_types": [], "crs": crs.to_json_dict()}},
    }


def write_parquet(batches: Iterable[ExportBatch], export: Export, path: Path) -> Path:
    names = export.names
    geometry = free_name("geometry", names)
    layout = arrow_layout(export, id_name=free_name("id", names), geometry_name=geometry)
    schema = layout.schema
    if export.geometry:
        metadata = {b"geo": json.dumps(geo_metadata(export, geometry)).encode()}
        schema = schema.with_metadata(metadata)
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for batch in batches:
            if len(batch):
                writer.write_batch(record_batch(batch, export, layout))
    return path

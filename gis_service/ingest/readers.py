"""Open a vector source as a stream of Arrow batches, whatever its format.

GDAL (through pyogrio's Arrow stream) reads everything except GeoParquet, which this
GDAL build lacks a driver for; pyarrow reads that, guided by the file's `geo` metadata.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pyogrio
from pyproj import CRS

from ..errors import IngestError

BATCH_SIZE = 20_000
CSV_OPTIONS = {
    "X_POSSIBLE_NAMES": "lon,long,longitude,x,lng",
    "Y_POSSIBLE_NAMES": "lat,latitude,y",
    "GEOM_POSSIBLE_NAMES": "wkt,geometry,geom,the_geom",
    "KEEP_GEOM_COLUMNS": "NO",
    "AUTODETECT_TYPE": "YES",
}


@dataclass
class Source:
    """An open source: its CRS, feature count (when known) and Arrow batches."""

    crs: CRS | None
    total: int | None
    geometry_column: str
    fid_column: str | None
    batches: Iterator[pa.RecordBatch]


def _crs(value: Any) -> CRS | None:
    if not value:
        return None
    try:
        return CRS.from_user_input(value)
    except Exception as exc:  # pyproj raises CRSError and others
        raise IngestError(
            f"the source's coordinate reference system is not understood: {exc}"
        ) from exc


@contextmanager
def open_source(path: Path, layer: str | None = None) -> Iterator[Source]:
    """Yield a Source; raises IngestError when the file cannot be read as vector data."""
    if not path.exists():
        raise IngestError(f"{path.name}: no such file")
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        with _open_parquet(path) as source:
            yield source
        return
    options = CSV_OPTIONS if path.suffix.lower() in (".csv", ".tsv") else {}
    try:
        info = pyogrio.read_info(path, layer=layer, **options)
        total = int(info.get("features", -1))
        context = pyogrio.open_arrow(
            path,
            layer=layer,
            batch_size=BATCH_SIZE,
            use_pyarrow=True,
            return_fids=True,
            **options,
        )
        meta, reader = context.__enter__()
    except pyogrio.errors.DataSourceError as exc:
        raise IngestError(f"{path.name}: not a readable vector file ({exc})") from exc
    except pyogrio.errors.DataLayerError as exc:
        raise IngestError(f"{path.name}: {exc}") from exc
    try:
        geometry_column = next(
            (
                f.name
                for f in reader.schema
                if (f.metadata or {}).get(b"ARROW:extension:name") == b"geoarrow.wkb"
            ),
            "wkb_geometry",
        )
        yield Source(
            crs=_crs(meta.get("crs")),
            total=total if total >= 0 else None,
            geometry_column=geometry_column,
            fid_column=meta.get("fid_column") or None,
            batches=iter(reader),
        )
    finally:
        context.__exit__(None, None, None)


@contextmanager
def _open_parquet(path: Path) -> Iterator[Source]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise IngestError(f"{path.name}: not a readable Parquet file ({exc})") from exc
    raw_geo = (parquet.schema_arrow.metadata or {}).get(b"geo")
    if raw_geo is None:
        raise IngestError(f"{path.name}: Parquet file without GeoParquet 'geo' metadata")
    geo = json.loads(raw_geo)
    column = geo.get("primary_column", "geometry")
    column_meta = geo.get("columns", {}).get(column, {})
    if column_meta.get("encoding", "WKB").upper() != "WKB":
        raise IngestError(f"{path.name}: only WKB-encoded GeoParquet geometry is supported")
    crs = _crs(column_meta["crs"]) if "crs" in column_meta else CRS.from_epsg(4326)
    if column_meta.get("crs", "") is None:
        crs = None
    try:
        yield Source(
            crs=crs,
            total=parquet.metadata.num_rows,
            geometry_column=column,
            fid_column=None,
            batches=parquet.iter_batches(batch_size=BATCH_SIZE),
        )
    finally:
        parquet.close()

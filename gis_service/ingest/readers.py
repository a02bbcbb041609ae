"""Open a vector source as a stream of Arrow batches, whatever its format.

GDAL (through pyogrio's Arrow stream) reads everything except GeoParquet, which this
GDAL build lacks a driver for; pyarrow reads that, guided by the file's `geo` metadata.
"""

from __future__ import annotations

import csv
import json
import zipfile
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
    #: For CSV with a WKT column: its raw cells in row order, so that a cell GDAL could not
    #: parse (it then gives no geometry) is reported as such rather than kept as a null.
    wkt_cells: Iterator[str] | None = None


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
def open_source(
    path: Path, layer: str | None = None, encoding: str | None = None
) -> Iterator[Source]:
    """Yield a Source; raises IngestError when the file cannot be read as vector data."""
    if not path.exists():
        raise IngestError(f"{path.name}: no such file")
    if path.suffix.lower() in (".parquet", ".geoparquet"):
        with _open_parquet(path) as source:
            yield source
        return
    options: dict[str, str] = dict(CSV_OPTIONS) if path.suffix.lower() in (".csv", ".tsv") else {}
    encoding = encoding or shapefile_encoding(path)
    if encoding:
        options["encoding"] = encoding
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
            batches=_translated(iter(reader), path.name),
            wkt_cells=_wkt_cells(path, encoding) if "X_POSSIBLE_NAMES" in options else None,
        )
    finally:
        context.__exit__(None, None, None)


def _wkt_cells(path: Path, encoding: str | None) -> Iterator[str] | None:
    """The WKT column's raw cells, if the CSV has one GDAL will read geometry from."""
    names = CSV_OPTIONS["GEOM_POSSIBLE_NAMES"].split(",")
    handle = path.open(newline="", encoding=encoding or "utf-8-sig", errors="replace")
    reader = csv.reader(handle, delimiter="\t" if path.suffix.lower() == ".tsv" else ",")
    header = [h.strip().lower() for h in next(reader, [])]
    lon_lat = any(h in CSV_OPTIONS["X_POSSIBLE_NAMES"].split(",") for h in header)
    column = next((header.index(n) for n in names if n in header), None)
    if column is None or lon_lat:
        handle.close()
        return None

    def cells() -> Iterator[str]:
        with handle:
            for row in reader:
                yield row[column] if column < len(row) else ""

    return cells()


def _translated(batches: Iterator[pa.RecordBatch], name: str) -> Iterator[pa.RecordBatch]:
    """A file that breaks part way through (truncated, corrupt) is the sender's error."""
    try:
        yield from batches
    except (
        pyogrio.errors.DataSourceError,
        pyogrio.errors.DataLayerError,
        OSError,
        pa.ArrowException,
    ) as exc:
        raise IngestError(f"{name}: the file is broken part way through ({exc})") from exc


def shapefile_encoding(path: Path) -> str | None:
    """Arabic shapefiles often come without a .cpg in Windows-1256: when the DBF's text is
    not UTF-8 and nothing names its code page, read it as Windows-1256 rather than Latin-1."""
    suffix = path.suffix.lower()
    try:
        if suffix == ".shp":
            if path.with_suffix(".cpg").exists() or path.with_suffix(".CPG").exists():
                return None
            dbf = next(
                (p for p in (path.with_suffix(".dbf"), path.with_suffix(".DBF")) if p.exists()),
                None,
            )
            content = dbf.read_bytes()[:4_000_000] if dbf else b""
        elif suffix == ".zip" and zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                names = [n.lower() for n in archive.namelist()]
                if any(n.endswith(".cpg") for n in names):
                    return None
                dbfs = [n for n in archive.namelist() if n.lower().endswith(".dbf")]
                if len(dbfs) != 1:
                    return None
                with archive.open(dbfs[0]) as handle:
                    content = handle.read(4_000_000)
        else:
            return None
    except (OSError, zipfile.BadZipFile):
        return None
    if len(content) < 32 or content[29] != 0:  # byte 29: the DBF's own code page mark
        return None
    try:
        content[32:].decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(content) - 4:  # not just a character cut at the end
            return "cp1256"
    # valid UTF-8 with non-ASCII text: say so, or GDAL would read it as Latin-1
    return "utf-8" if any(b >= 0x80 for b in content[32:]) else None


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

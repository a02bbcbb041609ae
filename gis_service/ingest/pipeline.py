"""The one ingest path (CLI now, HTTP uploads later): read, reproject, type, store, report."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from datetime import time as dt_time
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import shapely
from pyproj import CRS
from tqdm import tqdm

from ..domain.collection import (
    GEOMETRY_TYPE_NAMES,
    CollectionInfo,
    PropertyDef,
    PropertyType,
    TemporalFields,
)
from ..domain.values import format_datetime, parse_datetime_text, storage_datetime
from ..errors import CollectionNotFound, Conflict, IngestError
from ..store.base import Actor, FeatureBatch, Store
from .nul import check_file, check_names, check_options, check_values
from .options import IngestOptions, IngestReport, descriptive_fields
from .readers import Source, open_source
from .reproject import to_wgs84
from .validate import Checked, Rejection, check_batch


def property_type(arrow_type: pa.DataType) -> PropertyType:
    """Arrow field type -> the attribute types both stores hold."""
    if pa.types.is_boolean(arrow_type):
        return PropertyType.BOOLEAN
    if pa.types.is_integer(arrow_type):
        return PropertyType.INTEGER
    if pa.types.is_floating(arrow_type) or pa.types.is_decimal(arrow_type):
        return PropertyType.NUMBER
    if pa.types.is_date(arrow_type):
        return PropertyType.DATE
    if pa.types.is_timestamp(arrow_type):
        return PropertyType.DATETIME
    return PropertyType.STRING


def _as_text(value: Any) -> Any:
    """Nested or binary values have no column type in both stores: keep them as JSON text."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, dt_time):  # GDAL's Time type: the text, not a quoted JSON string
        return value.isoformat(timespec="milliseconds" if value.microsecond else "seconds")
    return orjson.dumps(value, default=str).decode()


def _temporal_text(value: Any) -> str | None:
    """Text or dates named by --temporal become canonical date-times; bad ones stop the import."""
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    if not isinstance(value, datetime):
        try:
            value = parse_datetime_text(str(value))
        except ValueError as exc:
            raise IngestError(f"temporal property: {value!r} is not a date-time") from exc
    return storage_datetime(value)


_UTC_MS = pa.timestamp("ms", tz="UTC")


def _column_values(column: pa.Array, kind: PropertyType) -> list[Any]:
    """One Arrow column as batch values; dates and times as their canonical text,
    converted by Arrow in bulk rather than value by value."""
    arrow_type = column.type
    if kind is PropertyType.DATETIME and pa.types.is_timestamp(arrow_type):
        stamped = pc.cast(column, _UTC_MS if arrow_type.tz else pa.timestamp("ms"), safe=False)
        return pc.strftime(stamped, format="%Y-%m-%dT%H:%M:%SZ").to_pylist()
    if kind is PropertyType.DATE and pa.types.is_date(arrow_type):
        return pc.cast(column, pa.string()).to_pylist()
    values = column.to_pylist()
    if kind is PropertyType.DATETIME:
        return [_temporal_text(v) for v in values]
    if kind is PropertyType.STRING and not (
        pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type)
    ):
        return [_as_text(v) for v in values]
    return values


class _Schema:
    """Source fields -> collection properties, decided once from the Arrow schema."""

    def __init__(self, schema: pa.Schema, source: Source, temporal: tuple[str, str | None] | None):
        skip = {source.geometry_column, source.fid_column, "OGC_FID"}
        self.fields = [f for f in schema if f.name not in skip]
        check_names(f.name for f in self.fields)
        self.properties = [
            PropertyDef(name=f.name, type=property_type(f.type)) for f in self.fields
        ]
        seen: dict[str, str] = {}
        for prop in self.properties:
            other = seen.setdefault(prop.name.casefold(), prop.name)
            if other != prop.name:  # GeoPackage (SQLite) column names ignore case
                raise IngestError(f"properties {other!r} and {prop.name!r} differ only in case")
        names = {p.name: p for p in self.properties}
        self.temporal: TemporalFields | None = None
        if temporal:
            for name in filter(None, temporal):
                prop = names.get(name)
                if prop is None:
                    raise IngestError(f"--temporal: the source has no property {name!r}")
                if prop.type not in (PropertyType.DATE, PropertyType.DATETIME):
                    prop.type = PropertyType.DATETIME
            self.temporal = TemporalFields(start=temporal[0], end=temporal[1])

    def columns(self, batch: pa.RecordBatch) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {}
        for fld, prop in zip(self.fields, self.properties, strict=True):
            out[prop.name] = _column_values(batch.column(fld.name), prop.type)
        return out


class _Accumulator:
    """Extent, geometry types and time range of everything stored so far."""

    def __init__(self) -> None:
        self.bounds = np.array([np.inf, np.inf, -np.inf, -np.inf])
        self.types: set[int] = set()
        self.any_missing = False
        self.first: str | None = None
        self.last: str | None = None

    def seed(self, previous: CollectionInfo) -> None:
        """Start from what an appended-to collection already holds."""
        if previous.bbox is not None:
            self.bounds = np.array(previous.bbox, dtype=float)
        type_ids = {name: i for i, name in GEOMETRY_TYPE_NAMES.items()}
        if previous.geometry_type in type_ids:
            self.types.add(type_ids[previous.geometry_type])
        elif previous.feature_count:
            self.types.update({0, 3})  # mixed already: any two types keep it "Geometry"
        self.any_missing = previous.has_null_geometry
        if previous.temporal_extent is not None:
            first, last = previous.temporal_extent
            self.first = storage_datetime(parse_datetime_text(first)) if first else None
            self.last = storage_datetime(parse_datetime_text(last)) if last else None

    def add(self, geoms: np.ndarray, times: list[Any]) -> None:
        missing = shapely.is_missing(geoms)
        self.any_missing = self.any_missing or bool(missing.any())
        present = geoms[~missing]
        if len(present):
            b = shapely.total_bounds(present)
            self.bounds = np.array(
                [
                    min(self.bounds[0], b[0]),
                    min(self.bounds[1], b[1]),
                    max(self.bounds[2], b[2]),
                    max(self.bounds[3], b[3]),
                ]
            )
            self.types.update(np.unique(shapely.get_type_id(present)).tolist())
        stamps = [t for t in times if t is not None]
        if stamps:
            low, high = min(stamps), max(stamps)
            self.first = low if self.first is None else min(self.first, low)
            self.last = high if self.last is None else max(self.last, high)

    @property
    def bbox(self) -> tuple[float, float, float, float] | None:
        if not np.isfinite(self.bounds).all():
            return None
        minx, miny, maxx, maxy = (float(v) for v in self.bounds)
        return (minx, miny, maxx, maxy)

    @property
    def geometry_type(self) -> str:
        if len(self.types) == 1:
            return GEOMETRY_TYPE_NAMES.get(next(iter(self.types)), "Geometry")
        return "Geometry"

    def temporal_extent(self) -> tuple[str | None, str | None] | None:
        if self.first is None or self.last is None:
            return None
        return (_instant(self.first), _instant(self.last))


def _instant(stamp: str) -> str:
    return format_datetime(parse_datetime_text(stamp)) if "T" in stamp else stamp + "T00:00:00Z"


class _FidSequence:
    """Keep the source's ids while they are positive and increasing, else number on."""

    def __init__(self, last: int = 0, keep_source: bool = True) -> None:
        self.last = last
        self.keep_source = keep_source

    def assign(self, source_fids: np.ndarray | None, n: int) -> np.ndarray:
        if source_fids is not None and n:
            fids = source_fids.astype(np.int64)
            if fids[0] > self.last and (n == 1 or bool(np.all(np.diff(fids) > 0))):
                self.last = int(fids[-1])
                return fids
        fids = np.arange(self.last + 1, self.last + 1 + n, dtype=np.int64)
        self.last += n
        return fids


def _existing(store: Store, collection_id: str) -> CollectionInfo | None:
    try:
        return store.get_collection(collection_id)
    except CollectionNotFound:
        return None


def _appendable(schema: _Schema, previous: CollectionInfo) -> list[PropertyDef]:
    """An append keeps the collection's schema; the file may omit properties, not add any."""
    known = {p.name: p.type for p in previous.properties}
    for prop in schema.properties:
        kind = known.get(prop.name)
        if kind is None:
            raise IngestError(f"append: property {prop.name!r} is not in the collection")
        widened = kind is PropertyType.NUMBER and prop.type is PropertyType.INTEGER
        if kind is not prop.type and not widened:
            raise IngestError(
                f"append: property {prop.name!r} is {prop.type.value}, the collection's is"
                f" {kind.value}"
            )
    return previous.properties


def _unparsed_wkt(checked: Checked, geoms: np.ndarray, cells: list[str], first_row: int) -> None:
    """Rows whose WKT text GDAL could not read: rejected with the reason, not kept empty."""
    for i, cell in enumerate(cells):
        if cell.strip() and geoms[i] is None and checked.keep[i]:
            checked.keep[i] = False
            checked.rejections.append(Rejection(first_row + i, "unparseable WKT"))
    checked.rejections.sort(key=lambda r: r.row)


def _prepare(
    batch: pa.RecordBatch,
    source: Source,
    schema: _Schema,
    report: IngestReport,
    fids: _FidSequence,
    properties: list[PropertyDef],
) -> FeatureBatch:
    """One source batch, reprojected, checked and typed, as the store takes it."""
    geoms = shapely.from_wkb(batch.column(source.geometry_column).to_numpy(False))
    geoms, report.reprojected = to_wgs84(geoms, source.crs)
    checked = check_batch(geoms, report.features_read + 1)
    if source.wkt_cells is not None:
        _unparsed_wkt(
            checked, geoms, list(islice(source.wkt_cells, len(geoms))), report.features_read + 1
        )
    report.note(checked)
    keep = checked.keep
    has_fids = fids.keep_source and source.fid_column in batch.schema.names
    source_fids = batch.column(source.fid_column).to_numpy()[keep] if has_fids else None
    check_values(batch, [f.name for f in schema.fields], report.features_read + 1)
    columns = schema.columns(batch)
    if not keep.all():
        columns = {
            k: [v for v, ok in zip(vs, keep, strict=True) if ok] for k, vs in columns.items()
        }
    kept = int(keep.sum())
    for prop in properties:
        columns.setdefault(prop.name, [None] * kept)
    report.features_read += len(keep)
    report.features_stored += kept
    return FeatureBatch(
        fids=fids.assign(source_fids, kept), geometries=checked.geometries[keep], columns=columns
    )


def import_file(store: Store, path: Path, options: IngestOptions) -> IngestReport:
    """Stream `path` into the store as collection `options.collection_id`, atomically.

    A new generation replaces the collection, or with `options.append` extends it."""
    if path.suffix.lower() in (".tif", ".tiff"):  # a GeoTIFF: a raster collection
        from .rasters import import_raster

        return import_raster(store, path, options)
    started = time.perf_counter()
    report = IngestReport(collection_id=options.collection_id)
    previous = _existing(store, options.collection_id)
    if previous is not None and previous.is_coverage:
        raise Conflict(f"collection {options.collection_id!r} is a raster: upload a GeoTIFF")
    if options.append and previous is None:
        raise CollectionNotFound(options.collection_id)
    if options.create_only and previous is not None:
        raise Conflict(f"collection {options.collection_id!r} exists already")
    check_options(options)
    check_file(path)
    with open_source(path, options.layer, options.encoding) as source:
        first = next(source.batches, None)
        if first is None:
            raise IngestError(f"{path.name}: the layer has no features")
        schema = _Schema(first.schema, source, None if options.append else options.temporal)
        properties = schema.properties
        acc = _Accumulator()
        if options.append and previous is not None:
            properties = _appendable(schema, previous)
            schema.temporal = previous.temporal
        report.properties = properties
        report.source_crs = _crs_name(source.crs)
        time_fields = (
            [f for f in (schema.temporal.start, schema.temporal.end) if f]
            if schema.temporal
            else []
        )
        bar = tqdm(total=source.total, unit=" features", disable=not options.progress)
        with store.replace_collection(
            collection_id=options.collection_id,
            properties=properties,
            keep_existing=options.append,
            create_only=options.create_only,
        ) as writer:
            writer.actor = options.actor or Actor("append" if options.append else "import")
            if options.append:
                # what the collection holds now that this writer has its turn
                previous = writer.previous
                if previous is None or previous.properties != properties:
                    raise IngestError("append: the collection changed meanwhile; try again")
                acc.seed(previous)
            fids = _FidSequence(last=writer.next_fid - 1, keep_source=not options.append)
            for batch in _chain(first, source.batches):
                prepared = _prepare(batch, source, schema, report, fids, properties)
                writer.write(prepared)
                acc.add(
                    prepared.geometries, [v for name in time_fields for v in prepared.columns[name]]
                )
                bar.update(batch.num_rows)
                if options.on_progress is not None:
                    options.on_progress(report.features_read, source.total)
            bar.close()
            report.bbox, report.geometry_type = acc.bbox, acc.geometry_type
            report.seconds = time.perf_counter() - started
            writer.report = report.document()
            kept_before = previous.feature_count if options.append and previous else 0
            writer.commit(
                CollectionInfo(
                    id=options.collection_id,
                    **descriptive_fields(options, previous),
                    geometry_type=acc.geometry_type,
                    properties=properties,
                    bbox=acc.bbox,
                    temporal=schema.temporal,
                    temporal_extent=acc.temporal_extent(),
                    source_crs=report.source_crs,
                    source_file=path.name,
                    feature_count=kept_before + report.features_stored,
                    has_null_geometry=acc.any_missing,
                    updated=datetime.now(UTC),
                )
            )
    report.seconds = time.perf_counter() - started
    return report


def _chain(first: pa.RecordBatch, rest: Any) -> Any:
    yield first
    yield from rest


def _crs_name(crs: CRS | None) -> str | None:
    if crs is None:
        return None
    authority = crs.to_authority(min_confidence=70)
    return f"{authority[0]}:{authority[1]}" if authority else crs.name

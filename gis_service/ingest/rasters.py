"""A GeoTIFF into the store as a raster collection: checked, made a COG, published.

The same entry as vector files (`import_file` hands `.tif` here), so the CLI and HTTP
uploads, claims, jobs and access policies apply unchanged. Nothing is allocated before
the header passed every check (`rasters.validate`); the COG is written under the raster
folder's staging area and becomes a version only when it is complete, so a refused or
failed import leaves no file and no catalog row.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import rasterio
from rasterio.warp import transform_bounds

from ..domain.collection import CollectionInfo, CollectionKind
from ..errors import CollectionNotFound, Conflict, IngestError
from ..rasters.cog import to_cog
from ..rasters.metadata import crs_code, describe
from ..rasters.validate import check_raster
from ..store.base import Actor, Store
from .nul import check_options
from .options import IngestOptions, IngestReport, descriptive_fields
from .safety import check_text


def import_raster(store: Store, path: Path, options: IngestOptions) -> IngestReport:
    """Publish `path` as a new version of raster collection `options.collection_id`."""
    started = time.perf_counter()
    check_text(str(path), "file")
    if options.append:
        raise IngestError("a raster cannot be appended to: replace it (PUT .../data)")
    if options.temporal or options.layer:
        raise IngestError("temporal and layer apply to vector files, not to a GeoTIFF")
    check_options(options)
    previous = _existing(store, options.collection_id)
    if previous is not None and not previous.is_coverage:
        raise Conflict(f"collection {options.collection_id!r} holds features, not a raster")
    if options.create_only and previous is not None:
        raise Conflict(f"collection {options.collection_id!r} exists already")
    check_raster(path, options.raster_limits)
    with rasterio.Env(GDAL_PAM_ENABLED="NO"), rasterio.open(path, driver="GTiff") as src:
        units, source_crs = src.units, crs_code(src.crs)
    staged = store.rasters().staged()
    try:
        to_cog(path, staged)
        raster = describe(staged, units)
        bbox = transform_bounds(raster.crs_wkt, "OGC:CRS84", *raster.bounds, densify_pts=21)
        report = IngestReport(collection_id=options.collection_id, source_crs=source_crs)
        report.bbox = tuple(float(v) for v in bbox)  # type: ignore[assignment]
        report.raster = {
            "width": raster.width,
            "height": raster.height,
            "bands": len(raster.bands),
            "band_names": [b.name for b in raster.bands],
            "dtype": raster.dtype,
            "nodata": raster.nodata,
            "overviews": raster.overviews,
            "bytes": raster.bytes,
        }
        report.seconds = time.perf_counter() - started
        info = CollectionInfo(
            id=options.collection_id,
            kind=CollectionKind.COVERAGE,
            **descriptive_fields(options, previous),
            geometry_type="Polygon",  # the grid's footprint, for listings that ask
            bbox=report.bbox,
            source_crs=source_crs,
            source_file=path.name,
            updated=datetime.now(UTC),
            raster=raster,
        )
        store.publish_raster(
            collection_id=options.collection_id,
            staged=staged,
            info=info,
            actor=options.actor or Actor("import"),
            report=report.document(),
            create_only=options.create_only,
        )
    finally:
        staged.unlink(missing_ok=True)
    report.seconds = time.perf_counter() - started
    return report


def _existing(store: Store, collection_id: str) -> CollectionInfo | None:
    try:
        return store.get_collection(collection_id)
    except CollectionNotFound:
        return None

"""A typed mapping from store URL to store class; no string plugin registry."""

from __future__ import annotations

from pathlib import Path

from ..settings import Settings
from .base import Store
from .raster_files import RasterFiles, RasterStorage


def open_store(settings: Settings) -> Store:
    """`postgresql://...` selects PostGIS; anything else is a folder for GeoPackage files.

    Raster collections' COGs go to GIS_RASTER_DIR (a folder, or s3://bucket/prefix), by
    default `rasters` inside the GeoPackage store's folder, or ./var/rasters beside a
    PostGIS store."""
    store = _open(settings)
    store.raster_files = _raster_storage(settings)
    return store


def _raster_storage(settings: Settings) -> RasterStorage:
    if settings.raster_dir and settings.raster_dir.startswith("s3://"):
        from .raster_objects import ObjectRasterFiles

        return ObjectRasterFiles(settings.raster_dir, settings.s3_endpoint_url, settings.s3_region)
    if settings.raster_dir:
        return RasterFiles(Path(settings.raster_dir))
    if _is_postgis(settings.store):
        return RasterFiles(Path("var") / "rasters")
    return RasterFiles(Path(settings.store) / "rasters")


def _is_postgis(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def _open(settings: Settings) -> Store:
    url = settings.store
    if _is_postgis(url):
        from .postgis.store import PostgisStore

        return PostgisStore(
            url,
            schema=settings.postgis_schema,
            pool_size=settings.postgis_pool_size,
            statement_timeout_ms=settings.statement_timeout_ms,
            count_cap=settings.count_cap,
            connect_timeout_s=settings.postgis_connect_timeout_s,
        )
    from .geopackage.store import GeoPackageStore

    return GeoPackageStore(
        url, count_cap=settings.count_cap, statement_timeout_ms=settings.statement_timeout_ms
    )

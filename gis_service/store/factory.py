"""A typed mapping from store URL to store class; no string plugin registry."""

from __future__ import annotations

from pathlib import Path

from ..settings import Settings
from .base import Store
from .raster_files import RasterFiles


def open_store(settings: Settings) -> Store:
    """`postgresql://...` selects PostGIS; anything else is a folder for GeoPackage files.

    Raster collections' COGs go to GIS_RASTER_DIR, by default `rasters` inside the
    GeoPackage store's folder, or ./var/rasters beside a PostGIS store."""
    store = _open(settings)
    if settings.raster_dir:
        folder = Path(settings.raster_dir)
    elif _is_postgis(settings.store):
        folder = Path("var") / "rasters"
    else:
        folder = Path(settings.store) / "rasters"
    store.raster_files = RasterFiles(folder)
    return store


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

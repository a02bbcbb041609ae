"""A typed mapping from store URL to store class; no string plugin registry."""

from __future__ import annotations

from ..settings import Settings
from .base import Store


def open_store(settings: Settings) -> Store:
    """`postgresql://...` selects PostGIS; anything else is a folder for GeoPackage files."""
    url = settings.store
    if url.startswith(("postgresql://", "postgres://")):
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

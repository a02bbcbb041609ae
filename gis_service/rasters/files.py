"""Opening a raster collection's COG by collection and version: ids in, never paths."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import rasterio

from ..domain.collection import CollectionInfo
from ..errors import NotACoverage
from ..store.base import Store

#: GDAL settings for reading stored COGs: no sidecar lookups, no .aux.xml written.
READ_ENV = {"GDAL_PAM_ENABLED": "NO", "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR"}


def raster_info_of(store: Store, collection: CollectionInfo, version: int | None = None):
    """The collection's metadata at `version` (its own when None or current)."""
    if not collection.is_coverage or collection.raster is None:
        raise NotACoverage(collection.id)
    if version is None or version == collection.version:
        return collection
    old = store.version_info(collection.id, version)  # VersionNotFound, VersionGone
    if old.raster is None:
        raise NotACoverage(collection.id)
    return old


def cog_path(store: Store, collection: CollectionInfo, version: int | None = None) -> str:
    """The COG of a raster collection's version as GDAL opens it (a file, or /vsis3/...),
    for libraries that open files themselves (inside `rasterio.Env(**cog_env(store))`)."""
    info = raster_info_of(store, collection, version)
    assert info.raster is not None
    return str(store.rasters().path(info.raster.file))


def cog_env(store: Store) -> dict[str, str]:
    """GDAL settings for reading the store's COGs (the object storage endpoint, if any)."""
    return {**READ_ENV, **store.rasters().gdal_env()}


@contextmanager
def open_cog(
    store: Store, collection: CollectionInfo, version: int | None = None
) -> Iterator[rasterio.DatasetReader]:
    """A read-only rasterio dataset of the collection's COG (GTiff driver only)."""
    path = cog_path(store, collection, version)
    with rasterio.Env(**cog_env(store)), rasterio.open(path, driver="GTiff") as ds:
        yield ds

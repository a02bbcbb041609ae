"""Raster collections: validation, conversion to Cloud-Optimized GeoTIFF, metadata, and
windowed coverage reads (OGC API - Coverages).

A raster collection is a collection like any other (same catalog, access, versions and
audit) whose `CollectionInfo.kind` is ``"coverage"`` and whose `CollectionInfo.raster`
(`gis_service.domain.raster.RasterInfo`) describes its bands, grid and CRS. Its data is
one COG per version, named by the server and reachable only through these functions
(never a path from a user).

How other packages (map tiles, point values, zonal statistics) open a collection's COG::

    from gis_service.rasters import cog_env, cog_path, open_cog

    info, policy = store.resolve(collection_id)          # the caller checks access first
    with open_cog(store, info, version=None) as ds:      # a read-only rasterio dataset
        ds.read(1, window=..., out_shape=...)            # overviews chosen by GDAL
    path = cog_path(store, info, version=None)           # what GDAL opens (a file or
    with rasterio.Env(**cog_env(store)): ...             # /vsis3/...), for libraries
                                                         # that open the file themselves

`version=None` is the collection's current version; another number is that version
(VersionNotFound 404, VersionGone 410, as for items). A collection that is not a raster
raises NotACoverage (404). `raster_info_of(store, info, version)` gives that version's
CollectionInfo (its `.raster` grid) without opening the file. All three live in
`gis_service.rasters.files` and are imported from here on first use (GDAL is loaded only
by the processes that read rasters).

A version's COG never changes once published (a replace or restore is a new version with
a file of its own), so `(info.id, info.version)` is a sound cache and ETag key.

This package sits below ingest, tiles, processes and the API, and above the store (see
the layers in pyproject.toml): its modules may import the store, domain, settings and
errors, never `gis_service.tiles` or the API (morecantile is there for tile grids).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .files import cog_env, cog_path, open_cog, raster_info_of

__all__ = ["cog_env", "cog_path", "open_cog", "raster_info_of"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from . import files

        return getattr(files, name)
    raise AttributeError(name)

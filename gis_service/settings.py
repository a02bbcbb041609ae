"""Service settings, read from `GIS_*` environment variables (pydantic-settings)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything configurable; built once in `create_app` and injected, never a global."""

    model_config = SettingsConfigDict(env_prefix="GIS_", extra="ignore")

    store: str = Field(
        "./var/store",
        description="A folder (embedded GeoPackage store) or a postgresql:// URL (PostGIS).",
    )
    title: str = "GIS data-sharing service"
    description: str = (
        "Spatial datasets of the government's entities, published through OGC API - Features."
    )
    default_limit: int = Field(10, ge=1)
    max_limit: int = Field(10_000, ge=1)
    count_cap: int = Field(
        1_000_000,  # equality counts read an index and are remembered per generation
        ge=0,
        description="Filtered queries stop counting here and leave numberMatched out.",
    )
    base_url: str | None = Field(
        None, description="Public URL prefix for links; by default taken from the request."
    )
    upload_max_bytes: int = Field(512 * 1024**2, ge=1, description="Largest upload accepted.")
    feature_body_max_bytes: int = Field(
        16 * 1024**2, ge=1, description="Largest feature body (POST, PUT, PATCH of items)."
    )
    sharing_body_max_bytes: int = Field(
        64 * 1024, ge=1, description="Largest body of the sharing endpoints (access, keys)."
    )
    style_body_max_bytes: int = Field(
        256 * 1024, ge=1, description="Largest map style a collection's editors may save."
    )
    upload_sync_max_bytes: int = Field(
        32 * 1024**2, ge=0, description="Larger uploads are imported as background jobs (202)."
    )
    upload_max_expanded_bytes: int = Field(
        4 * 1024**3, ge=1, description="Largest total an uploaded archive may expand to."
    )
    oidc_issuer: str | None = Field(None, description="Accept JWTs from this OIDC issuer.")
    oidc_jwks_url: str | None = Field(None, description="The issuer's JWKS (https://).")
    oidc_jwks_file: str | None = Field(None, description="Or the JWKS as a local file.")
    oidc_audience: str | None = Field(None, description="The audience tokens must name.")
    oidc_entity_claim: str = "entity"
    oidc_role_claim: str = "role"
    postgis_schema: str = "gis"
    postgis_pool_size: int = Field(4, ge=1)
    postgis_connect_timeout_s: float = Field(
        3.0,
        gt=0,
        description="How long a request waits for a database connection (a new one, or a"
        " free one from the pool) before it answers 503; a server known to be down is"
        " answered at once.",
    )
    statement_timeout_ms: int = Field(30_000, ge=0)
    tile_cache_mb: int = Field(64, ge=0, description="Memory for rendered vector tiles.")
    tile_index_features: int = Field(
        5_000_000, ge=0, description="Features kept in the per-generation tile indexes."
    )
    basemap_url: str | None = Field(
        None, description="An XYZ raster basemap for the web map ({z}/{x}/{y}); none by default."
    )
    # Retention of old versions (every write publishes a whole new generation).
    versions_keep_days: float = Field(
        7.0, ge=0, description="Versions published less than this many days ago are kept."
    )
    versions_keep: int = Field(
        3, ge=1, description="The newest this many versions are always kept (the current one too)."
    )
    versions_prune_interval_s: int = Field(
        3600, ge=0, description="How often each server process prunes old versions; 0: never."
    )
    versions_lease_s: int = Field(
        3600,
        ge=60,
        description="How long a cursor stays valid after its last page: the version it pins"
        " is kept from pruning that long.",
    )
    # Spatial analysis (OGC API - Processes): each run is bounded, sync or async.
    process_timeout_s: float = Field(
        120.0, gt=0, description="A process run taking longer fails (its job says why)."
    )
    process_max_features: int = Field(
        3_000_000,
        ge=1,
        description="Features a process run may hold in memory, inputs and results together:"
        " the run's memory bound (a run needing more fails cleanly).",
    )
    process_max_inline_bytes: int = Field(
        16 * 1024**2, ge=1, description="Largest execution request (inline GeoJSON included)."
    )
    process_workers: int = Field(
        2, ge=1, description="Process runs at a time per server process; more answer 503."
    )
    # Raster collections (GeoTIFF uploads stored as COGs, OGC API - Coverages).
    raster_dir: str | None = Field(
        None,
        description="Folder of the raster collections' COG files, read by every API worker"
        " (or s3://bucket/prefix: S3-compatible object storage, read in place by GDAL);"
        " by default `rasters` in the GeoPackage store's folder, or ./var/rasters beside"
        " a PostGIS store.",
    )
    s3_endpoint_url: str | None = Field(
        None,
        description="The object storage endpoint for an s3:// GIS_RASTER_DIR that is not AWS"
        " (e.g. http://127.0.0.1:9000 for MinIO); credentials from the usual AWS variables.",
    )
    s3_region: str | None = Field(None, description="The s3:// GIS_RASTER_DIR's region.")
    raster_max_cells: int = Field(
        2_000_000_000, ge=1, description="Largest width x height x bands an upload may declare."
    )
    raster_max_bytes: int = Field(
        8 * 1024**3, ge=1, description="Largest uncompressed size an uploaded raster may declare."
    )
    raster_max_ratio: float = Field(
        500.0,
        ge=1,
        description="Largest uncompressed / file size ratio of an upload above 256 MiB"
        " uncompressed (beyond it, a compressed bomb).",
    )
    raster_max_blocks: int = Field(
        1_000_000, ge=1, description="Most tiles or strips an uploaded TIFF may declare."
    )
    coverage_max_cells: int = Field(
        16_000_000, ge=1, description="Largest coverage answer (width x height x bands)."
    )

"""OGC API - Maps tiles of raster collections (PNG, WebP)."""

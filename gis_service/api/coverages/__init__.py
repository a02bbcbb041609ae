"""OGC API - Coverages 1.0: a raster collection's coverage, domain set and range type."""

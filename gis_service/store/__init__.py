"""The storage seam: one `Store` interface, a GeoPackage and a PostGIS implementation."""

from .base import CollectionWriter, Feature, FeatureBatch, FeaturePage, Store
from .factory import open_store

__all__ = ["CollectionWriter", "Feature", "FeatureBatch", "FeaturePage", "Store", "open_store"]

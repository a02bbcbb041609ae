"""gis-service: share and query spatial datasets through OGC API standards."""

__version__ = "0.1.0"

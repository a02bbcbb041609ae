"""Any GDAL-readable vector file -> validated, reprojected batches -> a store."""

from .pipeline import IngestOptions, IngestReport, import_file

__all__ = ["IngestOptions", "IngestReport", "import_file"]

"""Any GDAL-readable vector file -> validated, reprojected batches -> a store.

`import_file` loads GDAL and Arrow, so it is imported on first use: the API's worker
processes only pay for it when they actually import a file.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .options import IngestOptions, IngestReport

if TYPE_CHECKING:
    from .pipeline import import_file

__all__ = ["IngestOptions", "IngestReport", "import_file"]


def __getattr__(name: str) -> Any:
    if name == "import_file":
        from .pipeline import import_file

        return import_file
    raise AttributeError(name)

"""What the writer and the recovery use of the GeoPackage store that owns them.

They take this rather than `GeoPackageStore`, so the store module imports them and no
module of the package imports the store back.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..catalog import Catalog
from ..turns import Turns


class Host(Protocol):
    folder: Path
    catalog: Catalog
    statement_timeout_ms: int
    turns: Turns

    def path(self, collection_id: str) -> Path: ...

    def version_path(self, collection_id: str, version: int) -> Path: ...

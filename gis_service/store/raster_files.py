"""The raster collections' COG files in a folder: one per version, named by the server.

A file is written under `.staging/` (same file system), flushed, then renamed to
`<collection>/<random hex>.tif`; only then is it recorded in the catalog, so the catalog
never names a partial file, and a writer that dies leaves at most an unrecorded file,
which `sweep` removes once it is old. Locations come from the catalog only: a name is
checked against the one pattern the server makes before it is joined to the folder.
"""

from __future__ import annotations

import os
import re
import time
import uuid
from pathlib import Path
from typing import Protocol

from ..domain.collection import valid_collection_id
from ..errors import StoreError

LOCATION = re.compile(r"^(?P<collection>[A-Za-z0-9][A-Za-z0-9_.-]{0,62})/[0-9a-f]{32}\.tif$")
STAGING = ".staging"
#: Unrecorded files younger than this may belong to a publish under way.
ORPHAN_AFTER_S = 6 * 3600


def is_raster_location(location: str) -> bool:
    return bool(LOCATION.fullmatch(location))


class RasterStorage(Protocol):
    """Where COGs live: a folder (RasterFiles) or object storage (raster_objects.py).
    Locations are catalog strings the server made; GDAL opens `path(location)`."""

    def path(self, location: str) -> str | Path: ...
    def gdal_env(self) -> dict[str, str]: ...
    def staged(self) -> Path: ...
    def place(self, staged: Path, collection_id: str) -> str: ...
    def link(self, location: str, collection_id: str) -> str: ...
    def remove(self, location: str) -> int: ...
    def size(self, location: str) -> int | None: ...
    def sweep(self, recorded: set[str], now: float | None = None) -> list[str]: ...


def new_location(collection_id: str) -> str:
    """A fresh catalog location for a version's COG (never reused)."""
    if not valid_collection_id(collection_id):
        raise StoreError(f"collection id {collection_id!r} is not allowed")
    return f"{collection_id}/{uuid.uuid4().hex}.tif"


class RasterFiles:
    """The folder every API worker reads the COGs from (GIS_RASTER_DIR)."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)

    def gdal_env(self) -> dict[str, str]:
        return {}

    def path(self, location: str) -> Path:
        """The file of a catalog location; anything else is refused, never joined."""
        if not is_raster_location(location):
            raise StoreError("a raster location the server did not make")
        return self.folder / location

    def staged(self) -> Path:
        """A fresh path to write a new COG to (nothing is there yet)."""
        staging = self.folder / STAGING
        staging.mkdir(parents=True, exist_ok=True)
        return staging / f"{uuid.uuid4().hex}.tif.part"

    def place(self, staged: Path, collection_id: str) -> str:
        """Move a complete staged file to its place; its location for the catalog."""
        location = new_location(collection_id)
        with staged.open("rb+") as handle:
            os.fsync(handle.fileno())
        target = self.path(location)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, target)
        return location

    def link(self, location: str, collection_id: str) -> str:
        """A second name for a file (a restored version owns a file of its own)."""
        new = new_location(collection_id)
        os.link(self.path(location), self.path(new))
        return new

    def remove(self, location: str) -> int:
        """Delete one version's file; the bytes freed (0 if it was gone)."""
        path = self.path(location)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            return 0
        path.unlink(missing_ok=True)
        return size

    def size(self, location: str) -> int | None:
        try:
            return self.path(location).stat().st_size
        except FileNotFoundError:
            return None

    def sweep(self, recorded: set[str], now: float | None = None) -> list[str]:
        """Remove staged and unrecorded files older than ORPHAN_AFTER_S (dead writers')."""
        cutoff = (now or time.time()) - ORPHAN_AFTER_S
        removed = []
        if not self.folder.is_dir():
            return removed
        for path in self.folder.glob("*/*"):
            location = f"{path.parent.name}/{path.name}"
            if path.parent.name == STAGING or location not in recorded:
                try:
                    if path.stat().st_mtime < cutoff:
                        path.unlink()
                        removed.append(str(path))
                except FileNotFoundError:
                    continue
        return removed
